#!/usr/bin/env bash
# NVIDIA container toolkit from NVIDIA's libnvidia-container repository at a
# pinned version; Docker's nvidia runtime through `nvidia-ctk runtime
# configure --runtime=docker` (the docker step already writes the same entry,
# so this normally changes nothing); CDI specs (`nvidia-ctk cdi generate`) in
# /etc/cdi/nvidia.yaml when nvidia-smi sees a GPU, regenerated when the GPUs or
# the driver change.
list=/etc/apt/sources.list.d/aihpc-nvidia-container-toolkit.list
keyring=/usr/share/keyrings/aihpc-nvidia-container-toolkit.gpg
pin=/etc/apt/preferences.d/aihpc-nvidia-container-toolkit
cdi=/etc/cdi/nvidia.yaml
tag=nvidia-container-toolkit
case "$AIHPC_ACTION" in
  apply)
    : "${TOOLKIT_VERSION:?}" "${TOOLKIT_REPO:?}"
    aihpc_put "$pin" 0644 root:root "# Managed by aihpc (workstation.containers.nvidiaToolkit.version)
Package: nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1
Pin: version $TOOLKIT_VERSION-*
Pin-Priority: 1001"
    if [ ! -s "$keyring" ]; then
      tmp="$(mktemp)"
      trap 'rm -f "$tmp"' EXIT
      curl -fsSL --retry 3 --connect-timeout 20 -o "$tmp" "$TOOLKIT_REPO/gpgkey" ||
        aihpc_die "could not download $TOOLKIT_REPO/gpgkey: NVIDIA's container toolkit repository must be reachable from $(hostname) (or set workstation.containers.nvidiaToolkit.repository to a mirror), then re-run"
      gpg --dearmor <"$tmp" >"$keyring.new" && chmod 0644 "$keyring.new" && mv -f "$keyring.new" "$keyring"
      aihpc_log "installed $keyring ($(gpg --show-keys --with-colons "$keyring" | awk -F: '$1 == "fpr" { print $10; exit }'))"
      aihpc_mark_changed
    fi
    aihpc_put "$list" 0644 root:root "# Managed by aihpc (workstation.containers.nvidiaToolkit.repository)
deb [signed-by=$keyring] $TOOLKIT_REPO/\$(ARCH) /"
    if [ "$AIHPC_WROTE" = 1 ]; then aihpc_apt_retry update >&2 || aihpc_die "apt-get update failed with $TOOLKIT_REPO"; fi
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
    aihpc_rm "$cdi" "$list" "$pin"
    if aihpc_retain containers; then
      aihpc_log "retain: keeping the NVIDIA container toolkit"
    else
      aihpc_apt_remove "$tag"
      aihpc_rm "$keyring"
    fi
    ;;
esac
aihpc_done
