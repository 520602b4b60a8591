#!/usr/bin/env bash
# Keep nouveau away from the GPU: blacklist it in modprobe.d (CONF, rendered
# in nvidia/files.ts, at CONF_FILE) and rebuild the initramfs when that file
# changes (nouveau is loaded from there at boot). A loaded nouveau is
# reported by the reboot step.
: "${CONF_FILE:?}"
conf="$CONF_FILE"
initramfs() {
  if command -v update-initramfs >/dev/null; then
    update-initramfs -u -k all >&2 || aihpc_die "update-initramfs failed (output above): fix it, then re-run"
    aihpc_log "rebuilt the initramfs"
    [ -d /var/run ] && touch /var/run/reboot-required
  else
    aihpc_log "no update-initramfs on this host (no initramfs to rebuild)"
  fi
}
case "$AIHPC_ACTION" in
  apply)
    : "${CONF:?}"
    aihpc_put "$conf" 0644 root:root "$CONF"
    [ "$AIHPC_WROTE" = 1 ] && initramfs
    ;;
  delete)
    aihpc_rm "$conf"
    [ "$AIHPC_WROTE" = 1 ] && initramfs
    ;;
esac
aihpc_done
