#!/usr/bin/env bash
# NVIDIA container toolkit from NVIDIA's libnvidia-container repository at a
# pinned version, its signing key (KEY_URL) verified against the pinned
# fingerprint set (FINGERPRINTS, KEY_SHA256 when set) before it is trusted
# (lib.sh aihpc_apt_repo); Docker's nvidia runtime through `nvidia-ctk runtime
# configure --runtime=docker` (the docker step already writes the same entry,
# so this normally changes nothing); CDI specs (`nvidia-ctk cdi generate`) in
# /etc/cdi/nvidia.yaml when nvidia-smi sees a GPU, regenerated when the GPUs or
# the driver change.
repo=nvidia-container-toolkit
# Where an earlier aihpc put the key, unverified.
old_keyring=/usr/share/keyrings/aihpc-nvidia-container-toolkit.gpg
cdi=/etc/cdi/nvidia.yaml
tag=nvidia-container-toolkit
case "$AIHPC_ACTION" in
  apply)
    : "${TOOLKIT_VERSION:?}" "${TOOLKIT_REPO:?}" "${KEY_URL:?}" "${FINGERPRINTS:?}"
    aihpc_apt_repo "$repo" "$KEY_URL" "$FINGERPRINTS" "${KEY_SHA256:-}" workstation.containers.nvidiaToolkit "# Managed by aihpc (workstation.containers.nvidiaToolkit.repository)
deb [signed-by=/etc/apt/keyrings/aihpc-$repo.gpg] $TOOLKIT_REPO/\$(ARCH) /" "# Managed by aihpc (workstation.containers.nvidiaToolkit.version)
Package: nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1
Pin: version $TOOLKIT_VERSION-*
Pin-Priority: 1001"
    aihpc_rm "$old_keyring"
    v="$(dpkg-query -W -f='${Version}' nvidia-container-toolkit 2>/dev/null || true)"
    if [ "${v%%-*}" != "$TOOLKIT_VERSION" ]; then
      aihpc_lock
      before="$(mktemp)"
      after="$(mktemp)"
      aihpc_pkg_list >"$before"
      aihpc_apt_retry install --no-install-recommends --allow-downgrades nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1 >&2 ||
        aihpc_die "could not install nvidia-container-toolkit $TOOLKIT_VERSION from $TOOLKIT_REPO"
      aihpc_pkg_list >"$after"
      install -d -m 0755 "$AIHPC_STATE/packages"
      echo nvidia-container-toolkit >>"$AIHPC_STATE/packages/$tag.requested"
      comm -13 "$before" "$after" >>"$AIHPC_STATE/packages/$tag.added"
      rm -f "$before" "$after"
      aihpc_unlock
      aihpc_log "installed nvidia-container-toolkit $TOOLKIT_VERSION"
      aihpc_mark_changed
    fi
    before="$(jq -S . /etc/docker/daemon.json 2>/dev/null || true)"
    nvidia-ctk runtime configure --runtime=docker >&2 || aihpc_die "nvidia-ctk runtime configure --runtime=docker failed (output above)"
    if [ "$before" != "$(jq -S . /etc/docker/daemon.json)" ]; then
      aihpc_service docker.service 1
      aihpc_log "nvidia-ctk changed daemon.json: docker restarted"
    fi
    if nvidia-smi -L >/dev/null 2>&1; then
      tmp="$(mktemp)"
      nvidia-ctk cdi generate --output="$tmp" >&2 || aihpc_die "nvidia-ctk cdi generate failed (output above)"
      aihpc_put "$cdi" 0644 root:root "$(cat "$tmp")"
      rm -f "$tmp"
      nvidia-ctk cdi list >&2 || true
    else
      aihpc_warn "nvidia-smi sees no GPU: CDI specs not generated (re-run after the driver works)"
    fi
    ;;
  delete)
    aihpc_rm "$cdi" "/etc/apt/sources.list.d/aihpc-$repo.list" "/etc/apt/preferences.d/aihpc-$repo"
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
