#!/usr/bin/env bash
# NVIDIA container toolkit from NVIDIA's libnvidia-container repository at a
# pinned version: the repository REPO_NAME through lib.sh aihpc_apt_repo (its
# signing key KEY_URL verified against the pinned fingerprint set
# FINGERPRINTS, KEY_SHA256 when set, before it is trusted; SOURCE and PIN
# rendered in containers/files.ts), then PACKAGES (`name=VERSION-*` words)
# through aihpc_apt_install_pinned; Docker's nvidia runtime through
# `nvidia-ctk runtime configure --runtime=docker` (the docker step already
# writes the same entry, so this normally changes nothing); CDI specs
# (`nvidia-ctk cdi generate`, the host's own view of its GPUs) at CDI_FILE
# when nvidia-smi sees a GPU, regenerated when the GPUs or the driver change.
: "${REPO_NAME:?}" "${CDI_FILE:?}"
repo="$REPO_NAME"
# Where an earlier aihpc put the key, unverified.
old_keyring=/usr/share/keyrings/aihpc-nvidia-container-toolkit.gpg
tag=nvidia-container-toolkit
case "$AIHPC_ACTION" in
  apply)
    : "${PACKAGES:?}" "${TOOLKIT_REPO:?}" "${KEY_URL:?}" "${FINGERPRINTS:?}" "${SOURCE:?}" "${PIN:?}"
    aihpc_apt_repo "$repo" "$KEY_URL" "$FINGERPRINTS" "${KEY_SHA256:-}" workstation.containers.nvidiaToolkit "$SOURCE" "$PIN"
    aihpc_rm "$old_keyring"
    read -r -a pkgs <<<"$PACKAGES"
    aihpc_apt_install_pinned "$tag" "check that $TOOLKIT_REPO publishes it (workstation.containers.nvidiaToolkit.version)" "${pkgs[@]}"
    before="$(jq -S . /etc/docker/daemon.json 2>/dev/null || true)"
    nvidia-ctk runtime configure --runtime=docker >&2 || aihpc_die "nvidia-ctk runtime configure --runtime=docker failed (output above)"
    if [ "$before" != "$(jq -S . /etc/docker/daemon.json)" ]; then
      aihpc_service docker.service 1
      aihpc_log "nvidia-ctk changed daemon.json: docker restarted"
    fi
    if nvidia-smi -L >/dev/null 2>&1; then
      tmp="$(mktemp)"
      nvidia-ctk cdi generate --output="$tmp" >&2 || aihpc_die "nvidia-ctk cdi generate failed (output above)"
      aihpc_put "$CDI_FILE" 0644 root:root "$(cat "$tmp")"
      rm -f "$tmp"
      nvidia-ctk cdi list >&2 || true
    else
      aihpc_warn "nvidia-smi sees no GPU: CDI specs not generated (re-run after the driver works)"
    fi
    ;;
  delete)
    aihpc_rm "$CDI_FILE" "/etc/apt/sources.list.d/aihpc-$repo.list" "/etc/apt/preferences.d/aihpc-$repo"
    if aihpc_retain containers; then
      aihpc_log "retain: keeping the NVIDIA container toolkit"
    else
      aihpc_apt_remove "$tag"
      aihpc_apt_repo_remove "$repo"
      aihpc_rm "$old_keyring"
    fi
    ;;
esac
aihpc_done
