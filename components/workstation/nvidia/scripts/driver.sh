#!/usr/bin/env bash
# The NVIDIA driver, kernel headers and DKMS, from Debian's non-free 535 branch
# (DRIVER_SOURCE=debian: the build the apt pin chooses, which must match
# DRIVER_MATCH, the branch `535.*` or an exact opt-in) or NVIDIA's CUDA repository
# (DRIVER_SOURCE=cuda-repo, pinned DRIVER_BRANCH, open or proprietary kernel
# modules); persistence mode through nvidia-persistenced. A version change
# installs the new version over the old one (apt moves the packages in place,
# DKMS rebuilds the module); nothing is purged first. Secure Boot (from the
# facts probe) needs the DKMS signing key enrolled: the step says how.
tag=nvidia-gpu-driver
hint="check the apt sources (non-free for Debian's driver, NVIDIA's repository for cuda-repo) and the proxy"
# The version apt's pins choose for PKG, when it matches GLOB (the pin's).
candidate() {
  local v
  v="$(apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')"
  # shellcheck disable=SC2254 # GLOB is a pattern on purpose
  case "$v" in "" | "(none)") ;; $2) echo "$v" ;; esac
}
case "$AIHPC_ACTION" in
  apply)
    : "${DRIVER_SOURCE:?}" "${PERSISTENCE:?}" "${SECURE_BOOT:?}"
    kernel="$(uname -r)"
    headers="linux-headers-$kernel"
    apt-cache show "$headers" >/dev/null 2>&1 ||
      aihpc_die "no package $headers for the running kernel $kernel: DKMS builds the module against it; boot a Debian kernel (linux-image-amd64) and re-run"
    case "$DRIVER_SOURCE" in
      debian)
        : "${DRIVER_MATCH:?}"
        ver="$(candidate nvidia-kernel-dkms "$DRIVER_MATCH")"
        [ -n "$ver" ] || aihpc_die "Debian offers no driver $DRIVER_MATCH (apt-cache policy nvidia-kernel-dkms): is non-free enabled (workstation.base)? With an exact workstation.nvidia.driver.version, set one \`apt-cache madison nvidia-kernel-dkms\` lists, or unset it to follow the branch"
        aihpc_apt_install_pinned "$tag" "$hint" dkms "$headers" firmware-misc-nonfree "nvidia-kernel-dkms=$ver" "nvidia-driver=$ver" "nvidia-smi=$ver" nvidia-persistenced
        ;;
      cuda-repo)
        : "${DRIVER_BRANCH:?}" "${OPEN_MODULES:?}"
        if [ "$OPEN_MODULES" = true ]; then meta="nvidia-open-$DRIVER_BRANCH"; else meta="cuda-drivers-$DRIVER_BRANCH"; fi
        apt-cache show "$meta" >/dev/null 2>&1 || aihpc_die "NVIDIA's repository offers no $meta: run the cuda-repo step first, or pick another workstation.nvidia.driver.branch"
        aihpc_apt_install_pinned "$tag" "$hint" dkms "$headers" "$meta" nvidia-persistenced
        ;;
      *) aihpc_die "unknown DRIVER_SOURCE '$DRIVER_SOURCE'" ;;
    esac
    # Secure Boot: the firmware loads only modules signed by a key it trusts;
    # Debian's DKMS signs with /var/lib/dkms/mok.key.
    if [ "$SECURE_BOOT" = enabled ]; then
      mok=/var/lib/dkms/mok.pub
      aihpc_apt_install "$tag" mokutil
      if [ ! -f "$mok" ] || ! mokutil --test-key "$mok" 2>/dev/null | grep -q 'is already enrolled'; then
        aihpc_die "Secure Boot is enabled on $(hostname): the nvidia module is signed with DKMS's key $mok, which the firmware does not trust yet. Enroll it (MOK): run \`mokutil --import $mok\` on the host, choose a one-time password, reboot and confirm the enrollment in the blue MOK manager on the console; then re-run. Or switch Secure Boot off in the firmware."
      fi
    fi
    if [ "$PERSISTENCE" = true ]; then
      if ! systemctl is-enabled --quiet nvidia-persistenced.service 2>/dev/null; then
        systemctl enable --quiet nvidia-persistenced.service && aihpc_log "enabled nvidia-persistenced" && aihpc_mark_changed
      fi
      # It can only start with the module loaded (after a reboot if one is needed).
      if nvidia-smi -L >/dev/null 2>&1 && ! systemctl is-active --quiet nvidia-persistenced.service; then
        systemctl start nvidia-persistenced.service && aihpc_log "started nvidia-persistenced" && aihpc_mark_changed
      fi
    else
      aihpc_service_off nvidia-persistenced.service
    fi
    ;;
  delete)
    aihpc_have_systemd && aihpc_service_off nvidia-persistenced.service
    if aihpc_retain nvidia; then
      aihpc_log "retain: keeping the NVIDIA driver"
    else
      aihpc_apt_remove "$tag"
      aihpc_log "the driver is removed; the running kernel keeps its module until the next reboot"
    fi
    ;;
esac
aihpc_done
