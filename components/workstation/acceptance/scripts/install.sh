#!/usr/bin/env bash
# The GPU acceptance suite (workstation.acceptance) on one GPU host: sources,
# runner and spec table under DEST (FILES, the bundled suite as a file set,
# synced by lib.sh aihpc_sync_files), the programs built there with nvcc, the
# command at LINK, the minimum fractions (CONF, rendered in
# acceptance/index.ts) at CONF_FILE and the Slurm job template in JOBS_DIR.
# Unchanged files and built programs are left alone (no rebuild). Teardown
# removes all of it, the last results (PROM_FILE) and the packages it
# installed, unless acceptance.retain (then the suite, its settings and its
# last results stay).
: "${DEST:?}" "${CONF_FILE:?}" "${LINK:?}" "${JOBS_DIR:?}" "${PROM_FILE:?}"
case "$AIHPC_ACTION" in
  apply)
    : "${FILES:?}" "${CONF:?}"
    # The runner and evaluator need Python's standard library (json, decimal):
    # python3, not python3-minimal.
    aihpc_apt_install acceptance python3
    aihpc_sync_files acceptance "$DEST" "$FILES" 'scripts/*'
    if aihpc_wrote || [ ! -x "$DEST/bin/aihpc-gemm" ]; then
      [ -z "${CUDA_HOME:-}" ] || export PATH="$CUDA_HOME/bin:$PATH"
      if [ -z "${NVCC:-}" ] && ! command -v nvcc >/dev/null && [ ! -x /usr/local/cuda/bin/nvcc ]; then
        aihpc_die "acceptance: nvcc not found: the suite is built with the CUDA toolkit (workstation.nvidia.cuda, or set the component's cudaHome)"
      fi
      "$DEST/scripts/build.sh" "$DEST/bin"
      aihpc_log "built the acceptance programs in $DEST/bin"
      aihpc_mark_changed
    fi
    if [ "$(readlink "$LINK" 2>/dev/null || true)" != "$DEST/scripts/aihpc-gpu-acceptance" ]; then
      install -d -m 0755 "$(dirname "$LINK")"
      ln -sfn "$DEST/scripts/aihpc-gpu-acceptance" "$LINK"
      aihpc_log "linked $LINK"
      aihpc_mark_changed
    fi
    aihpc_put "$CONF_FILE" 0644 root:root "$CONF"
    aihpc_put "$JOBS_DIR/gpu-acceptance.sbatch" 0644 root:root "$(cat "$DEST/templates/gpu-acceptance.sbatch")"
    ;;
  delete)
    if aihpc_retain acceptance; then
      aihpc_log "retain: keeping the acceptance suite, its settings and its last results"
    else
      aihpc_sync_files_remove acceptance "$DEST"
      # The built programs too: the folder is the suite's alone.
      if [ -d "$DEST" ]; then
        rm -rf "$DEST"
        aihpc_log "removed $DEST"
        aihpc_mark_changed
      fi
      aihpc_rm "$LINK" "$CONF_FILE" "$JOBS_DIR/gpu-acceptance.sbatch" "$PROM_FILE"
      # Folders only the suite uses, once empty (jobs/ is Slurm's too).
      rmdir "$(dirname "$DEST")" 2>/dev/null || true
      aihpc_apt_remove acceptance
    fi
    ;;
esac
aihpc_done
