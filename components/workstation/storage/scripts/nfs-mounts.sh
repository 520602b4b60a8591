#!/usr/bin/env bash
# The shares on one host as systemd automounts (UNITS: a file set of mount and
# automount units, rendered in storage/files.ts): mounted on first use, so a
# host boots whether or not the server is up, and a `hard` NFS mount makes a
# job wait for a server that comes back instead of failing. On the server,
# bind mounts give its folders the same paths. NFS_CLIENT=1 installs
# nfs-common. Teardown stops and removes the units; a busy mount is detached
# lazily rather than left stale.
tag=storage-nfs-mounts
dest=/etc/systemd/system
record="$AIHPC_STATE/files/$tag"
# Automount units this step wrote (the file set's record).
recorded() { [ ! -f "$record" ] || grep '\.automount$' "$record" || true; }
# Stop an automount and its mount, disable it, and remove the empty mount point.
unmount_share() {
  local unit="$1" where
  where="$(sed -n 's/^Where=//p' "$dest/$unit" 2>/dev/null)"
  aihpc_service_off "$unit"
  if [ -n "$where" ] && mountpoint -q "$where"; then
    systemctl stop "${unit%.automount}.mount" 2>/dev/null || umount -l "$where" || true
    aihpc_log "unmounted $where"
    aihpc_mark_changed
  fi
  [ -z "$where" ] || rmdir "$where" 2>/dev/null || true
}
case "$AIHPC_ACTION" in
  apply)
    : "${UNITS:?}"
    aihpc_require_systemd
    [ "${NFS_CLIENT:-0}" != 1 ] || aihpc_apt_install storage-nfs-client nfs-common
    wanted="$(for e in $UNITS; do printf '%s\n' "${e%%=*}"; done)"
    for unit in $(recorded); do
      grep -qxF "$unit" <<<"$wanted" || unmount_share "$unit"
    done
    aihpc_sync_files "$tag" "$dest" "$UNITS"
    changed_units="$AIHPC_WROTE"
    [ "$changed_units" = 0 ] || aihpc_daemon_reload
    for unit in $(recorded); do
      where="$(sed -n 's/^Where=//p' "$dest/$unit")"
      if [ ! -d "$where" ]; then
        install -d -m 0755 "$where"
        aihpc_log "created $where"
        aihpc_mark_changed
      fi
      # Changed units take effect on the next mount: release an idle one now.
      if [ "$changed_units" = 1 ] && mountpoint -q "$where"; then systemctl stop "${unit%.automount}.mount" 2>/dev/null || true; fi
      aihpc_service "$unit"
    done
    ;;
  delete)
    for unit in $(recorded); do unmount_share "$unit"; done
    if [ -f "$record" ]; then
      while read -r f; do [ -z "$f" ] || aihpc_rm "$dest/$f"; done <"$record"
      rm -f "$record"
      aihpc_have_systemd && aihpc_daemon_reload
      aihpc_mark_changed
    fi
    if aihpc_retain storage-nfs; then
      aihpc_log "retain: keeping nfs-common"
    else
      aihpc_apt_remove storage-nfs-client
    fi
    ;;
esac
aihpc_done
