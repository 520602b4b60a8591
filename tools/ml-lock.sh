#!/usr/bin/env bash
# Produce the ML runtime's lock (every package pinned, with sha256 hashes) for
# a torch version and CUDA build, on a Debian 12 x86_64 machine with access to
# PyTorch's index and PyPI (the platform and Python 3.11 must match the
# workstations'). Usage: tools/ml-lock.sh TORCH_VERSION CUDA_TAG, e.g.
#   tools/ml-lock.sh 2.7.1 cu128
# writes components/workstation/ml-runtime/locks/torch-2.7.1-cu128.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
torch="${1:?torch version, e.g. 2.7.1}"
tag="${2:?CUDA build, e.g. cu128}"
ipykernel="$(sed -n 's/^ *ipykernel: "\(.*\)",/\1/p' config/versions.ts)"
out="components/workstation/ml-runtime/locks/torch-$torch-$tag.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet pip-tools
printf 'torch==%s+%s\nipykernel==%s\n' "$torch" "$tag" "$ipykernel" >"$work/requirements.in"
"$work/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
  --index-url "https://download.pytorch.org/whl/$tag" --extra-index-url https://pypi.org/simple \
  --output-file "$work/lock.txt" "$work/requirements.in"
{
  echo "# aihpc ML runtime lock: PyTorch $torch ($tag) and ipykernel $ipykernel, Python $(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') on $(uname -m)."
  echo "# Produced by: tools/ml-lock.sh $torch $tag ($(date -u +%Y-%m-%d)); installed with pip --require-hashes."
  grep -v '^#' "$work/lock.txt"
} >"$out"
echo "wrote $out ($(grep -c -- '--hash=' "$out") hashes)"
