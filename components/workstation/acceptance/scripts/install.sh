#!/usr/bin/env bash
# The GPU acceptance suite (workstation.acceptance) on one GPU host: sources,
# runner and spec table under $DEST, the programs built there with nvcc, the
# command aihpc-gpu-acceptance, the minimum fractions in $CONF and the Slurm
# job template. The files arrive in FILES as "relative/path=base64 ..."
# (a bundled file set). Unchanged files and built programs are left alone (no
# rebuild). Teardown removes all of it and the packages it installed, unless
# acceptance.retain (then the suite, its settings and its last results stay).
DEST=${DEST:-/usr/local/lib/aihpc/acceptance}
CONF=${CONF:-/etc/aihpc/gpu-acceptance.conf}
LINK=${LINK:-/usr/local/bin/aihpc-gpu-acceptance}
JOBS=${JOBS:-/usr/local/share/aihpc/jobs}
PROM=${PROM:-/var/lib/prometheus/node-exporter/aihpc_gpu_acceptance.prom}

# put PATH MODE: write stdin to PATH (byte for byte) when it differs.
put() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1" && [ "$(stat -c %a "$1")" = "${2#0}" ]; then
    rm -f "$tmp"
    return 0
  fi
  install -D -m "$2" "$tmp" "$1"
  rm -f "$tmp"
  aihpc_log "wrote $1"
  aihpc_mark_changed
  sources_changed=1
}

case "$AIHPC_ACTION" in
  apply)
    : "${FILES:?}" "${MIN_DEVICE_BW:?}" "${MIN_HOST_DEVICE_BW:?}" "${MIN_GEMM:?}"
    # The runner and evaluator need Python's standard library (json, decimal):
    # python3, not python3-minimal.
    aihpc_apt_install acceptance python3
    sources_changed=0
    for entry in $FILES; do
      rel=${entry%%=*}
      case "$rel" in /* | *..* | '') aihpc_die "acceptance: bad file name '$rel' in FILES" ;; esac
      mode=0644
      case "$rel" in scripts/*) mode=0755 ;; esac
      put "$DEST/$rel" "$mode" < <(printf '%s' "${entry#*=}" | base64 -d)
    done
    if [ "$sources_changed" = 1 ] || [ ! -x "$DEST/bin/aihpc-gemm" ]; then
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
    aihpc_put "$CONF" 0644 root:root "# Managed by aihpc (Pulumi): workstation.acceptance.
deviceBandwidth=$MIN_DEVICE_BW
hostDeviceBandwidth=$MIN_HOST_DEVICE_BW
gemm=$MIN_GEMM
python=${PYTHON:-python3}"
    put "$JOBS/gpu-acceptance.sbatch" 0644 <"$DEST/templates/gpu-acceptance.sbatch"
    ;;
  delete)
    if aihpc_retain acceptance; then
      aihpc_log "retain: keeping the acceptance suite, its settings and its last results"
    else
      if [ -d "$DEST" ]; then
        rm -rf "$DEST"
        aihpc_log "removed $DEST"
        aihpc_mark_changed
      fi
      aihpc_rm "$LINK" "$CONF" "$JOBS/gpu-acceptance.sbatch" "$PROM"
      # Folders only the suite uses, once empty (jobs/ is Slurm's too).
      rmdir "$(dirname "$DEST")" 2>/dev/null || true
      aihpc_apt_remove acceptance
    fi
    ;;
esac
aihpc_done
