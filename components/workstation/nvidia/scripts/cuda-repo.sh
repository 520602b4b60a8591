#!/usr/bin/env bash
# NVIDIA's CUDA repository for Debian 12 through its cuda-keyring package
# (pinned version): the signing key it installs must be the pinned one, or the
# step removes it again and stops. CUDA, cuDNN, NCCL and the `cuda-repo`
# driver come from here.
keyring_pkg=cuda-keyring
case "$AIHPC_ACTION" in
  apply)
    : "${REPO:?}" "${KEYRING_VERSION:?}" "${FINGERPRINT:?}"
    if [ "$(dpkg-query -W -f='${Version}' "$keyring_pkg" 2>/dev/null || true)" != "$KEYRING_VERSION" ]; then
      tmp="$(mktemp -d)"
      trap 'rm -rf "$tmp"' EXIT
      deb="$tmp/cuda-keyring_${KEYRING_VERSION}_all.deb"
      curl -fsSL --retry 3 --connect-timeout 20 -o "$deb" "$REPO/cuda-keyring_${KEYRING_VERSION}_all.deb" ||
        aihpc_die "could not download $REPO/cuda-keyring_${KEYRING_VERSION}_all.deb: NVIDIA's CUDA repository must be reachable from $(hostname) (or set workstation.nvidia.repository to a mirror), then re-run"
      [ "$(dpkg-deb -f "$deb" Package)" = "$keyring_pkg" ] || aihpc_die "$deb is not the cuda-keyring package"
      aihpc_lock
      dpkg -i "$deb" >&2
      aihpc_unlock
      install -d -m 0755 "$AIHPC_STATE/packages"
      echo "$keyring_pkg" >>"$AIHPC_STATE/packages/nvidia-repo.requested"
      aihpc_log "installed cuda-keyring $KEYRING_VERSION"
      aihpc_mark_changed
    fi
    found=""
    for k in $(dpkg -L "$keyring_pkg" | grep -E '\.gpg$'); do
      [ -f "$k" ] || continue
      found="$found $(gpg --show-keys --with-colons "$k" 2>/dev/null | awk -F: '$1 == "fpr" { print $10 }' | tr '\n' ' ')"
    done
    case " $found " in
      *" $FINGERPRINT "*) ;;
      *)
        aihpc_apt_get purge "$keyring_pkg" >&2 || true
        aihpc_die "cuda-keyring carries key(s) [${found# }], expected $FINGERPRINT: removed it again; check workstation.nvidia.repository and config/versions.ts"
        ;;
    esac
    if [ "$AIHPC_CHANGED" = 1 ] || ! apt-cache policy 2>/dev/null | grep -qF "${REPO#*://}"; then
      aihpc_apt_retry update >&2 || aihpc_die "apt-get update failed with NVIDIA's repository: check that $REPO is reachable, then re-run"
      aihpc_mark_changed
    fi
    ;;
  delete)
    if aihpc_retain nvidia; then
      aihpc_log "retain: keeping NVIDIA's CUDA repository"
    else
      aihpc_apt_remove nvidia-repo
    fi
    ;;
esac
aihpc_done
