#!/usr/bin/env bash
# Runs after the reboot step, over a connection that retries its dial until
# the host is back (workstation.nvidia.driver.rebootTimeoutSeconds). Passes when
# this is a new boot (or no reboot was needed); the verify step after it asks
# the driver (nvidia-smi's own words: no device, a module that did not load).
case "$AIHPC_ACTION" in
  apply)
    # From the reboot step's output (nvidia/index.ts waitRebootEnv): the boot it checked, and whether it rebooted.
    : "${OLD_BOOT_ID?}" "${REBOOTED:?}"
    now="$(cat /proc/sys/kernel/random/boot_id)"
    if [ "$REBOOTED" = true ]; then
      if [ -z "$OLD_BOOT_ID" ] || [ "$now" = "$OLD_BOOT_ID" ]; then
        aihpc_die "$(hostname) did not reboot (boot id unchanged): reboot it by hand and re-run"
      fi
      aihpc_log "$(hostname) is back after the reboot ($(uptime -p))"
      aihpc_mark_changed
    fi
    ;;
  delete) ;;
esac
aihpc_done
