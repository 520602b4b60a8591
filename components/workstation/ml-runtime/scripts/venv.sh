#!/usr/bin/env bash
# The ML Python environment: a venv (Debian's python3-venv) at VENV with the
# packages of the committed lock (LOCK, written to VENV/requirements.lock),
# installed from INDEX_URL (PyTorch's index for the installed CUDA, or an
# Artifact Registry Python repository) and EXTRA_INDEX_URL. A hashed lock is
# installed with --require-hashes. Re-installs only when the lock or the index
# changed; checks that torch imports and reports the CUDA it was built for.
case "$AIHPC_ACTION" in
  apply)
    : "${VENV:?}" "${LOCK:?}" "${INDEX_URL:?}" "${TORCH_CUDA:?}"
    aihpc_apt_install ml-runtime python3-venv python3-dev
    py="$VENV/bin/python"
    if [ ! -x "$py" ]; then
      install -d -m 0755 "$(dirname "$VENV")"
      python3 -m venv "$VENV" || aihpc_die "python3 -m venv $VENV failed"
      aihpc_log "created the venv $VENV ($("$py" --version))"
      aihpc_mark_changed
    fi
    stamp="$VENV/.aihpc-installed"
    want="$(printf '%s\n%s\n%s\n' "$LOCK" "$INDEX_URL" "${EXTRA_INDEX_URL:-}" | sha256sum | cut -d' ' -f1)"
    aihpc_put "$VENV/requirements.lock" 0644 root:root "$LOCK"
    if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
      args=(install --no-input --disable-pip-version-check --index-url "$INDEX_URL")
      [ -z "${EXTRA_INDEX_URL:-}" ] || args+=(--extra-index-url "$EXTRA_INDEX_URL")
      if grep -q -- '--hash=sha256:' "$VENV/requirements.lock"; then
        args+=(--require-hashes)
      else
        aihpc_warn "the lock has no hashes: installing its pinned versions without hash checks (see tools/ml-lock.sh)"
      fi
      "$VENV/bin/pip" "${args[@]}" -r "$VENV/requirements.lock" >&2 ||
        aihpc_die "pip could not install the lock from $INDEX_URL: check that the index is reachable from $(hostname) (workstation.mlRuntime.indexUrl) and has these versions, then re-run"
      printf '%s\n' "$want" >"$stamp"
      aihpc_log "installed the lock into $VENV"
      aihpc_mark_changed
    fi
    info="$("$py" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())' 2>&1)" ||
      aihpc_die "torch does not import in $VENV: $info"
    aihpc_log "torch $info (version, CUDA, GPU available)"
    case "$info" in *"+$TORCH_CUDA "*) ;; *) aihpc_die "torch in $VENV is not built for $TORCH_CUDA: $info" ;; esac
    ;;
  delete)
    if aihpc_retain ml-runtime; then
      aihpc_log "retain: keeping $VENV"
    else
      if [ -d "$VENV" ] && [ -f "$VENV/pyvenv.cfg" ]; then
        rm -rf "$VENV" && aihpc_log "removed $VENV" && aihpc_mark_changed
      fi
      aihpc_apt_remove ml-runtime
    fi
    ;;
esac
aihpc_done
