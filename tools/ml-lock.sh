#!/usr/bin/env bash
# Produce the hashed Python locks from PyPI alone (no extra index: one source
# for every name, so nothing can shadow a package). Every package is pinned,
# dependencies included, with the sha256 of every file PyPI has for that
# version; the installs run pip with --require-hashes --no-deps. Only the index
# metadata is read (uv), no wheel is downloaded. Runs on any machine with
# python3 and access to PyPI; the target is fixed: CPython 3.11 (Debian 12's)
# on x86_64 manylinux.
#
#   tools/ml-lock.sh runtime TORCH_VERSION   # e.g. 2.7.1
#     -> components/workstation/ml-runtime/locks/torch-<version>-cu<XY>.txt,
#        named after the CUDA that PyPI's torch wheel of that version is built
#        for (read from the lock: nvidia-cuda-runtime-cu12 / cuda-toolkit).
#   tools/ml-lock.sh image
#     -> components/hybrid/images/training/requirements.lock (the Vertex AI
#        SDK the training image adds to its PyTorch base).
#
# PyTorch's own index (download.pytorch.org) serves other CUDA builds of the
# same versions (`+cu128` local versions); use it only from a mirror that
# proxies it *instead of* PyPI, never next to it.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
INDEX=https://pypi.org/simple
what="${1:?runtime TORCH_VERSION, or image}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --index-url "$INDEX" "uv==$UV_VERSION"
compile() {
  "$work/venv/bin/uv" pip compile --quiet --no-header --generate-hashes --only-binary :all: \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --index-url "$INDEX" --no-config --output-file "$work/lock.txt" "$work/requirements.in"
}
case "$what" in
  runtime)
    torch="${2:?torch version, e.g. 2.7.1}"
    ipykernel="$(sed -n 's/^ *ipykernel: "\(.*\)",/\1/p' config/versions.ts)"
    printf 'torch==%s\nipykernel==%s\n' "$torch" "$ipykernel" >"$work/requirements.in"
    compile
    cuda="$(grep -oE '^(nvidia-cuda-runtime(-cu[0-9]+)?|cuda-toolkit)==[0-9]+\.[0-9]+' "$work/lock.txt" | head -n1 | sed 's/.*==//')"
    [ -n "$cuda" ] || {
      echo "torch $torch on PyPI pulls no CUDA runtime: a CPU build? not a lock for a GPU workstation" >&2
      exit 1
    }
    tag="cu${cuda/./}"
    out="components/workstation/ml-runtime/locks/torch-$torch-$tag.txt"
    rm -f components/workstation/ml-runtime/locks/torch-"$torch"-cu*.txt
    {
      echo "# aihpc ML runtime lock: PyTorch $torch as PyPI builds it (CUDA $cuda, $tag) and ipykernel $ipykernel,"
      echo "# for CPython 3.11 (Debian 12) on x86_64 manylinux. Every package pinned with its hashes, from PyPI only."
      echo "# Produced by: tools/ml-lock.sh runtime $torch (uv $UV_VERSION, $(date -u +%Y-%m-%d)); installed with"
      echo "# pip install --require-hashes --no-deps --only-binary :all: from one index."
      cat "$work/lock.txt"
    } >"$out"
    ;;
  image)
    dockerfile=components/hybrid/images/training/Dockerfile
    aiplatform="$(sed -n 's/^ARG AIPLATFORM_VERSION=//p' "$dockerfile")"
    printf 'google-cloud-aiplatform[tensorboard]==%s\n' "$aiplatform" >"$work/requirements.in"
    compile
    out=components/hybrid/images/training/requirements.lock
    {
      echo "# aihpc training image lock: google-cloud-aiplatform[tensorboard] $aiplatform on top of the PyTorch base,"
      echo "# for CPython 3.11 on x86_64 manylinux. Every package pinned with its hashes, from PyPI only."
      echo "# Produced by: tools/ml-lock.sh image (uv $UV_VERSION, $(date -u +%Y-%m-%d)); installed with"
      echo "# pip install --require-hashes --no-deps --only-binary :all: from one index (see the Dockerfile)."
      cat "$work/lock.txt"
    } >"$out"
    ;;
  *)
    echo "usage: tools/ml-lock.sh runtime TORCH_VERSION | image" >&2
    exit 2
    ;;
esac
echo "wrote $out ($(grep -cE '^[A-Za-z0-9]' "$out") packages, $(grep -c -- '--hash=sha256:' "$out") hashes)"
