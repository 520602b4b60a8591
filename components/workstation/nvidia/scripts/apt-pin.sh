#!/usr/bin/env bash
# Pin the NVIDIA driver family to the configured version (source `debian`) or
# branch (source `cuda-repo`) with an apt preference (priority 1001), so that
# no other source (NVIDIA's CUDA repository carries newer drivers under the
# same package names) and no `apt upgrade` moves it. PIN (rendered in
# nvidia/files.ts driverPinFile) at PIN_FILE. A version change rewrites the
# pin; the driver step then moves the packages in place.
: "${PIN_FILE:?}"
case "$AIHPC_ACTION" in
  apply)
    : "${PIN:?}"
    aihpc_put "$PIN_FILE" 0644 root:root "$PIN"
    ;;
  delete) aihpc_rm "$PIN_FILE" ;;
esac
aihpc_done
