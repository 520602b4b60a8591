#!/usr/bin/env bash
# Install (ACTION=apply) or remove (ACTION=delete) the GPU acceptance suite on
# one host: sources, runner and spec table under $DEST, the programs built with
# nvcc, the command aihpc-gpu-acceptance, its settings in $CONF and the Slurm
# job template. Files arrive in FILES as "relative/path=base64 ..." pairs.
# Idempotent: unchanged files and existing programs are left alone (no rebuild),
# and the step says so.
set -euo pipefail
ACTION=${ACTION:-apply}
DEST=${DEST:-/usr/local/lib/aihpc/acceptance}
CONF=${CONF:-/etc/aihpc/gpu-acceptance.conf}
LINK=${LINK:-/usr/local/bin/aihpc-gpu-acceptance}
JOBS=${JOBS:-/usr/local/share/aihpc/jobs}
PROM=${PROM:-/var/lib/prometheus/node-exporter/aihpc_gpu_acceptance.prom}

if [ "$(id -u)" != 0 ] && [ -z "${AIHPC_ALLOW_NONROOT:-}" ]; then
  echo "acceptance: must run as root: connect as root or allow passwordless sudo" >&2
  exit 1
fi

if [ "$ACTION" = delete ]; then
  rm -rf "$DEST"
  rm -f "$LINK" "$CONF" "$JOBS/gpu-acceptance.sbatch" "$PROM"
  echo "acceptance: removed"
  exit 0
fi

: "${FILES:?FILES is required}" "${MIN_DEVICE_BW:?}" "${MIN_HOST_DEVICE_BW:?}" "${MIN_GEMM:?}"
changed=0
# put PATH MODE: write stdin to PATH when it differs.
put() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
    return 0
  fi
  install -D -m "$2" "$tmp" "$1"
  rm -f "$tmp"
  changed=1
  echo "acceptance: wrote $1"
}

if ! command -v python3 >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends python3-minimal
  changed=1
fi

sources_changed=0
for entry in $FILES; do
  rel=${entry%%=*}
  case "$rel" in /* | *..*) echo "acceptance: bad path '$rel'" >&2; exit 1 ;; esac
  mode=0644
  case "$rel" in scripts/*) mode=0755 ;; esac
  before=$changed
  put "$DEST/$rel" "$mode" < <(printf '%s' "${entry#*=}" | base64 -d)
  [ "$changed" = "$before" ] || sources_changed=1
done

if [ "$sources_changed" = 1 ] || [ ! -x "$DEST/bin/aihpc-gemm" ]; then
  [ -z "${CUDA_HOME:-}" ] || export PATH="$CUDA_HOME/bin:$PATH"
  if [ -z "${NVCC:-}" ] && ! command -v nvcc >/dev/null && [ ! -x /usr/local/cuda/bin/nvcc ]; then
    echo "acceptance: nvcc not found: the suite is built with the CUDA toolkit (workstation NVIDIA/CUDA step, or set cudaHome)" >&2
    exit 1
  fi
  "$DEST/scripts/build.sh" "$DEST/bin"
  changed=1
fi

ln -sfn "$DEST/scripts/aihpc-gpu-acceptance" "$LINK"
put "$CONF" 0644 < <(printf '# Managed by aihpc (Pulumi): workstation.acceptance.\ndeviceBandwidth=%s\nhostDeviceBandwidth=%s\ngemm=%s\npython=%s\n' \
  "$MIN_DEVICE_BW" "$MIN_HOST_DEVICE_BW" "$MIN_GEMM" "${PYTHON:-python3}")
put "$JOBS/gpu-acceptance.sbatch" 0644 <"$DEST/templates/gpu-acceptance.sbatch"

if [ "$changed" = 0 ]; then
  echo "acceptance: unchanged"
else
  echo "acceptance: installed; run: aihpc-gpu-acceptance --json report.json, or sbatch $JOBS/gpu-acceptance.sbatch"
fi
