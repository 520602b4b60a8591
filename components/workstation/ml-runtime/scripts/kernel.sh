#!/usr/bin/env bash
# A Jupyter kernel for the ML venv, system-wide under /usr/local/share/jupyter
# (any Jupyter on the host, or one in the venv, lists it).
case "$AIHPC_ACTION" in
  apply)
    : "${VENV:?}" "${KERNEL_NAME:?}" "${DISPLAY_NAME:?}"
    spec="/usr/local/share/jupyter/kernels/$KERNEL_NAME/kernel.json"
    before="$(cat "$spec" 2>/dev/null || true)"
    "$VENV/bin/python" -m ipykernel install --prefix /usr/local --name "$KERNEL_NAME" --display-name "$DISPLAY_NAME" >&2 ||
      aihpc_die "ipykernel install failed: is ipykernel in the ML runtime's lock?"
    [ "$before" = "$(cat "$spec")" ] || { aihpc_log "installed the Jupyter kernel $KERNEL_NAME"; aihpc_mark_changed; }
    ;;
  delete)
    : "${KERNEL_NAME:?}"
    d="/usr/local/share/jupyter/kernels/$KERNEL_NAME"
    if [ -d "$d" ]; then rm -rf "$d" && aihpc_log "removed $d" && aihpc_mark_changed; fi
    ;;
esac
aihpc_done
