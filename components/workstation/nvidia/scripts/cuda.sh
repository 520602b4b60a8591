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
    missing=()
    for spec in "${want[@]}"; do
      name="${spec%%=*}"
      if [ "$name" = "$spec" ]; then
        aihpc_installed "$name" || missing+=("$spec")
      else
        [ "$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)" = "${spec#*=}" ] || missing+=("$spec")
      fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
      apt-cache show "cuda-toolkit-$dash" >/dev/null 2>&1 ||
        aihpc_die "NVIDIA's repository offers no cuda-toolkit-$dash (CUDA $CUDA_VERSION): the cuda-repo step must succeed first, or fix workstation.nvidia.cuda.versions"
      aihpc_lock
      before="$(mktemp)"
      after="$(mktemp)"
      aihpc_pkg_list >"$before"
      aihpc_apt_retry install --no-install-recommends --allow-downgrades "${missing[@]}" >&2 ||
        aihpc_die "could not install ${missing[*]}: check NVIDIA's repository and the pinned versions (workstation.nvidia.cuda), then re-run"
      aihpc_pkg_list >"$after"
      install -d -m 0755 "$AIHPC_STATE/packages"
      printf '%s\n' "${missing[@]%%=*}" >>"$AIHPC_STATE/packages/$tag.requested"
      comm -13 "$before" "$after" >>"$AIHPC_STATE/packages/$tag.added"
      rm -f "$before" "$after"
      aihpc_unlock
      aihpc_log "installed ${missing[*]}"
      aihpc_mark_changed
    fi
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
