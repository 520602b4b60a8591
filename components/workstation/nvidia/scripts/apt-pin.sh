#!/usr/bin/env bash
# Pin the NVIDIA driver family to its branch (`535.*`: Debian's builds, security
# ones included, as they come), an exact opt-in version (source `debian`) or
# NVIDIA's branch (source `cuda-repo`) with an apt preference (priority 1001);
# with source `debian`, NVIDIA's CUDA repository (same package names) kept out.
# PIN (rendered in nvidia/index.ts driverPreferences) at PIN_FILE. A version change rewrites the
# pin; the driver step then moves the packages in place.
: "${PIN_FILE:?}"
case "$AIHPC_ACTION" in
  apply)
    : "${PIN:?}"
    aihpc_put "$PIN_FILE" 0644 root:root "$PIN"
    [ -z "${EXACT_PINS:-}" ] || aihpc_log "exact pin (workstation.nvidia.driver.version): $EXACT_PINS; newer builds, security ones included, are held back"
    ;;
  delete) aihpc_rm "$PIN_FILE" ;;
esac
aihpc_done
