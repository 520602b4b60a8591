#!/usr/bin/env bash
# Build the acceptance programs with nvcc: scripts/build.sh [OUTDIR] (default: ../bin).
# Targets: machine code for the compute capabilities of the GPUs nvidia-smi
# lists (else sm_80 sm_86 sm_89 sm_90: A100, RTX A5500, L4, H100/H200), plus
# PTX of the newest one so that a later GPU can JIT it. AIHPC_CUDA_ARCHS="90"
# overrides the list; NVCC names the compiler (default: nvcc on PATH, then
# $CUDA_HOME/bin/nvcc, then /usr/local/cuda/bin/nvcc).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
out=${1:-$root/bin}

nvcc=${NVCC:-$(command -v nvcc || true)}
[ -n "$nvcc" ] || nvcc=${CUDA_HOME:-/usr/local/cuda}/bin/nvcc
if [ ! -x "$nvcc" ]; then
  echo "build: nvcc not found (install the CUDA toolkit, or set NVCC or CUDA_HOME)" >&2
  exit 1
fi

archs=${AIHPC_CUDA_ARCHS:-}
if [ -z "$archs" ] && command -v nvidia-smi >/dev/null 2>&1; then
  archs=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | tr -d '. ' | sort -un | tr '\n' ' ' || true)
fi
archs=$(echo "$archs" | xargs)
[ -n "$archs" ] || archs="80 86 89 90"
flags=(-std=c++17 -O3 -lineinfo)
newest=0
for a in $archs; do
  case "$a" in *[!0-9]*) echo "build: bad compute capability '$a'" >&2; exit 1 ;; esac
  flags+=("-gencode=arch=compute_$a,code=sm_$a")
  [ "$a" -gt "$newest" ] && newest=$a
done
flags+=("-gencode=arch=compute_$newest,code=compute_$newest")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aihpc-acceptance-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "build: $("$nvcc" --version | tail -n1); targets: sm_${archs// / sm_} + compute_$newest PTX" >&2
"$nvcc" "${flags[@]}" -o "$tmp/aihpc-membw" "$root/src/membw.cu"
"$nvcc" "${flags[@]}" -o "$tmp/aihpc-hostbw" "$root/src/hostbw.cu"
"$nvcc" "${flags[@]}" -o "$tmp/aihpc-gemm" "$root/src/gemm.cu" -lcublas
mkdir -p "$out"
for p in aihpc-membw aihpc-hostbw aihpc-gemm; do
  install -m 0755 "$tmp/$p" "$out/$p"
done
echo "build: programs in $out" >&2
