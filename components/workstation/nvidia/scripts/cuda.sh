#!/usr/bin/env bash
# One CUDA toolkit version from NVIDIA's repository (cuda-toolkit-X-Y pins the
# minor version; versions install side by side under /usr/local/cuda-X.Y),
# with cuDNN and NCCL built for it when asked (pinned package versions).
# Removing a version from the config deletes this step: only that toolkit goes.
: "${CUDA_VERSION:?}"
dash="${CUDA_VERSION//./-}"
major="${CUDA_VERSION%%.*}"
tag="cuda-$dash"
case "$AIHPC_ACTION" in
  apply)
    want=("cuda-toolkit-$dash")
    if [ -n "${CUDNN_VERSION:-}" ]; then
      want+=("libcudnn9-cuda-$major=$CUDNN_VERSION-1" "libcudnn9-dev-cuda-$major=$CUDNN_VERSION-1")
    fi
    if [ -n "${NCCL_VERSION:-}" ]; then
      want+=("libnccl2=$NCCL_VERSION-1+cuda$CUDA_VERSION" "libnccl-dev=$NCCL_VERSION-1+cuda$CUDA_VERSION")
    fi
    aihpc_installed "cuda-toolkit-$dash" || apt-cache show "cuda-toolkit-$dash" >/dev/null 2>&1 ||
      aihpc_die "NVIDIA's repository offers no cuda-toolkit-$dash (CUDA $CUDA_VERSION): the cuda-repo step must succeed first, or fix workstation.nvidia.cuda.versions"
    aihpc_apt_install_pinned "$tag" "check NVIDIA's repository and the pinned versions (workstation.nvidia.cuda)" "${want[@]}"
    [ -x "/usr/local/cuda-$CUDA_VERSION/bin/nvcc" ] || aihpc_die "CUDA $CUDA_VERSION installed but /usr/local/cuda-$CUDA_VERSION/bin/nvcc is missing"
    aihpc_log "nvcc: $("/usr/local/cuda-$CUDA_VERSION/bin/nvcc" --version | tail -n 2 | head -n 1)"
    ;;
  delete)
    if aihpc_retain nvidia; then
      aihpc_log "retain: keeping CUDA $CUDA_VERSION"
    else
      aihpc_apt_remove "$tag"
    fi
    ;;
esac
aihpc_done
