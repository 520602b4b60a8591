#!/usr/bin/env bash
# NVIDIA's CUDA repository for Debian 12: its signing key (REPO/KEY_FILE)
# verified against the pinned fingerprint set (FINGERPRINTS, KEY_SHA256 when
# set) before it is trusted, then the source (SOURCE, rendered in
# nvidia/files.ts cudaSource), through lib.sh aihpc_apt_repo.
# NVIDIA's cuda-keyring .deb is not used: its maintainer scripts would run as
# root before anything could be checked. CUDA, cuDNN, NCCL and the `cuda-repo`
# driver come from here.
name=cuda
case "$AIHPC_ACTION" in
  apply)
    : "${REPO:?}" "${KEY_FILE:?}" "${FINGERPRINTS:?}" "${SOURCE:?}"
    # Hosts set up by an earlier aihpc installed cuda-keyring, whose source
    # names the same repository with another Signed-By (apt refuses both).
    if aihpc_installed cuda-keyring; then
      if grep -qx cuda-keyring "$AIHPC_STATE/packages/nvidia-repo.requested" 2>/dev/null; then
        aihpc_apt_remove nvidia-repo
        aihpc_log "removed cuda-keyring (replaced by the verified key)"
      else
        aihpc_die "cuda-keyring is installed (not by aihpc) and its source conflicts with the verified one: apt-get purge cuda-keyring, then re-run"
      fi
    fi
    aihpc_apt_repo "$name" "$REPO/$KEY_FILE" "$FINGERPRINTS" "${KEY_SHA256:-}" workstation.nvidia "$SOURCE"
    ;;
  delete)
    if aihpc_retain nvidia; then
      aihpc_log "retain: keeping NVIDIA's CUDA repository"
    else
      aihpc_apt_repo_remove "$name"
      aihpc_apt_remove nvidia-repo
    fi
    ;;
esac
aihpc_done
