#!/usr/bin/env bash
# The ML Python environment: a venv (Debian's python3-venv) at VENV with the
# packages of the committed lock (LOCK, written to VENV/requirements.lock).
# The lock pins every package with its hashes; pip installs exactly it:
# --require-hashes --no-deps --only-binary :all: (no build scripts run), from
# INDEX_URL alone (PyPI or one mirror of it: no second index that could shadow
# a name), with pip's config files and PIP_* variables ignored. Re-installs
# only when the lock or the index changed; checks that torch imports and is
# TORCH built for CUDA TORCH_CUDA. The folder is the stack's only when this
# step created it (or found it empty, or holding nothing but a venv): it then
# writes VENV/.aihpc-venv (MARKER, from ml-runtime/index.ts), and teardown
# removes VENV only where that marker is (never on pyvenv.cfg, which any venv
# has).
case "$AIHPC_ACTION" in
  apply)
    : "${VENV:?}" "${LOCK:?}" "${INDEX_URL:?}" "${TORCH:?}" "${TORCH_CUDA:?}" "${MARKER:?}"
    # Refuse before anything changes: an unhashed lock, or one that names an index of its own.
    grep -q -- '--hash=sha256:' <<<"$LOCK" || aihpc_die "the ML lock has no hashes: regenerate it with tools/ml-lock.sh runtime $TORCH"
    if grep -qE '^[[:space:]]*-(-index-url|-extra-index-url|-find-links|-trusted-host|i|f)([[:space:]=]|$)' <<<"$LOCK"; then
      aihpc_die "the ML lock names a package index of its own: regenerate it with tools/ml-lock.sh runtime $TORCH"
    fi
    aihpc_apt_install ml-runtime python3-venv python3-dev
    marker="$VENV/.aihpc-venv"
    if [ ! -f "$marker" ] || [ -L "$VENV" ]; then
      if [ -e "$VENV" ] || [ -L "$VENV" ]; then
        { [ -d "$VENV" ] && [ ! -L "$VENV" ]; } || aihpc_die "workstation.mlRuntime.path: $VENV exists and is not a folder: choose a folder of the stack's own"
        other="$(find "$VENV" -mindepth 1 -maxdepth 1 ! -name bin ! -name include ! -name lib ! -name lib64 ! -name share ! -name pyvenv.cfg ! -name requirements.lock ! -name .aihpc-installed -print -quit)"
        [ -z "$other" ] || aihpc_die "workstation.mlRuntime.path: $VENV already exists and holds $other, which is not part of a venv: it is not the stack's to fill or to remove on destroy. Choose a new folder (or empty this one), then re-run"
      fi
      install -d -m 0755 "$VENV"
      aihpc_put "$marker" 0644 root:root "$MARKER"
    fi
    py="$VENV/bin/python"
    if [ ! -x "$py" ]; then
      install -d -m 0755 "$(dirname "$VENV")"
      python3 -m venv "$VENV" || aihpc_die "python3 -m venv $VENV failed"
      aihpc_log "created the venv $VENV ($("$py" --version))"
      aihpc_mark_changed
    fi
    stamp="$VENV/.aihpc-installed"
    want="$(printf '%s\n%s\n' "$LOCK" "$INDEX_URL" | sha256sum | cut -d' ' -f1)"
    aihpc_put "$VENV/requirements.lock" 0644 root:root "$LOCK"
    if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
      # Only the index given here: no pip.conf (PIP_CONFIG_FILE=/dev/null loads none), no PIP_* variables.
      while read -r v; do unset "$v"; done < <(compgen -e | grep '^PIP_' || true)
      args=(install --no-input --disable-pip-version-check --require-hashes --no-deps --only-binary :all: --index-url "$INDEX_URL")
      PIP_CONFIG_FILE=/dev/null "$VENV/bin/pip" "${args[@]}" -r "$VENV/requirements.lock" >&2 ||
        aihpc_die "pip could not install the lock from $INDEX_URL: check that the index is reachable from $(hostname) (workstation.mlRuntime.indexUrl) and has these versions, then re-run"
      printf '%s\n' "$want" >"$stamp"
      aihpc_log "installed the lock into $VENV"
      aihpc_mark_changed
    fi
    info="$("$py" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())' 2>&1)" ||
      aihpc_die "torch does not import in $VENV: $info"
    aihpc_log "torch $info (version, CUDA, GPU available)"
    # PyPI's wheels carry no local version (`2.7.1`, not `2.7.1+cu126`).
    case "$info" in "$TORCH $TORCH_CUDA "* | "$TORCH+"*" $TORCH_CUDA "*) ;; *) aihpc_die "torch in $VENV is not $TORCH built for CUDA $TORCH_CUDA: $info" ;; esac
    ;;
  delete)
    if aihpc_retain ml-runtime; then
      aihpc_log "retain: keeping $VENV"
    else
      # Only a folder this step created or claimed (its marker), never one that merely looks like a venv.
      if [ -d "$VENV" ] && [ ! -L "$VENV" ] && [ -f "$VENV/.aihpc-venv" ]; then
        rm -rf "$VENV" && aihpc_log "removed $VENV" && aihpc_mark_changed
      elif [ -e "$VENV" ]; then
        aihpc_warn "keeping $VENV: it has no .aihpc-venv marker, so this stack did not create it"
      fi
      aihpc_apt_remove ml-runtime
    fi
    ;;
esac
aihpc_done
