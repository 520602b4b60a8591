#!/usr/bin/env bash
# Does the driver need a reboot? When the kernel module that is loaded is not
# the one installed (or none is loaded, or nouveau holds the GPU, or Debian
# says so in /var/run/reboot-required). Then: with ALLOW_REBOOT=true, reboot in
# a few seconds (sshd is stopped first, so the next step's SSH dial waits for
# the host to come back rather than racing the shutdown); otherwise stop with
# a message saying to reboot. Prints `boot_id=...` of the boot it checked.
# The installed module's version: Debian's driver names its file nvidia-current
# (modprobe maps `nvidia` to it with an install rule, which modinfo ignores).
module_version() { modinfo -F version nvidia 2>/dev/null || modinfo -F version nvidia-current 2>/dev/null || true; }
reasons() {
  local loaded installed
  installed="$(module_version)"
  loaded="$(cat /sys/module/nvidia/version 2>/dev/null || true)"
  # A module loaded from elsewhere (a VM image without /lib/modules for it):
  # what counts is that it matches the driver's user-space libraries.
  if [ -z "$installed" ] && [ -n "$loaded" ]; then
    installed="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1 || true)"
  fi
  [ -n "$installed" ] || echo "no nvidia kernel module is installed for kernel $(uname -r)"
  if [ -n "$installed" ] && [ -z "$loaded" ]; then echo "the nvidia module $installed is installed but not loaded"; fi
  if [ -n "$installed" ] && [ -n "$loaded" ] && [ "$installed" != "$loaded" ]; then
    echo "the loaded nvidia module is $loaded, the installed one $installed"
  fi
  [ ! -d /sys/module/nouveau ] || echo "nouveau is loaded"
  [ ! -f /var/run/reboot-required ] || echo "/var/run/reboot-required exists ($(tr '\n' ' ' </var/run/reboot-required.pkgs 2>/dev/null))"
}
case "$AIHPC_ACTION" in
  apply)
    : "${ALLOW_REBOOT:?}"
    echo "boot_id=$(cat /proc/sys/kernel/random/boot_id)"
    # A module that simply is not loaded yet: try loading it before rebooting.
    if [ -z "$(cat /sys/module/nvidia/version 2>/dev/null || true)" ] && [ ! -d /sys/module/nouveau ] &&
      [ -n "$(module_version)" ] && modprobe nvidia 2>/dev/null; then
      aihpc_log "loaded the nvidia module"
      aihpc_mark_changed
    fi
    mapfile -t why < <(reasons)
    if [ "${#why[@]}" -eq 0 ]; then
      aihpc_log "no reboot needed"
    elif [ "$ALLOW_REBOOT" = true ]; then
      aihpc_log "rebooting $(hostname) in 5 s: $(printf '%s; ' "${why[@]}")"
      systemd-run --quiet --on-active=5 --timer-property=AccuracySec=1s /bin/systemctl reboot ||
        aihpc_die "could not schedule the reboot"
      # New SSH sessions now wait for the host to come back; this one ends normally.
      systemctl stop ssh.socket ssh.service 2>/dev/null || true
      aihpc_mark_changed
    else
      aihpc_die "$(hostname) needs a reboot for the NVIDIA driver: $(printf '%s; ' "${why[@]}")reboot it (or set workstation.nvidia.driver.allowReboot: true) and re-run"
    fi
    ;;
  delete) ;;
esac
aihpc_done
