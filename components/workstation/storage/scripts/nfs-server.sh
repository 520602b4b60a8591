#!/usr/bin/env bash
# The NFS server: Debian's nfs-kernel-server, the shared folders (SHARES:
# `path:mode` words; owned by root and GROUP, setgid so files keep the
# group) and EXPORTS at EXPORTS_FILE (rendered in storage/files.ts).
# `exportfs -ra` applies a change in place: mounted clients keep their mounts.
# Teardown unexports and removes the server; the shared folders are data and
# stay unless empty.
: "${EXPORTS_FILE:?}"
case "$AIHPC_ACTION" in
  apply)
    : "${GROUP:?}" "${SHARES:?}" "${EXPORTS:?}"
    aihpc_require_systemd
    getent group "$GROUP" >/dev/null || aihpc_die "group $GROUP is missing: the base system's users step creates it"
    aihpc_apt_install storage-nfs nfs-kernel-server
    for share in $SHARES; do
      dir="${share%%:*}" mode="${share#*:}"
      if [ ! -d "$dir" ]; then
        install -d -m "$mode" -o root -g "$GROUP" "$dir"
        aihpc_log "created $dir"
        aihpc_mark_changed
      fi
      if [ "$(stat -c %U:%G "$dir")" != "root:$GROUP" ]; then
        chown "root:$GROUP" "$dir" && aihpc_log "$dir: owner root:$GROUP" && aihpc_mark_changed
      fi
      if [ "$((8#$(stat -c %a "$dir")))" != "$((8#$mode))" ]; then
        chmod "$mode" "$dir" && aihpc_log "$dir: mode $mode" && aihpc_mark_changed
      fi
    done
    aihpc_put "$EXPORTS_FILE" 0644 root:root "$EXPORTS"
    aihpc_service nfs-server.service
    # Also after a failed run that wrote the file: exportfs is idempotent.
    exportfs -ra || aihpc_die "exportfs refused $EXPORTS_FILE (its message above): check workstation.storage.nfs.exports[].options"
    ;;
  delete)
    aihpc_rm "$EXPORTS_FILE"
    if [ "$AIHPC_WROTE" = 1 ] && command -v exportfs >/dev/null; then exportfs -ra || true; fi
    if aihpc_retain storage-nfs; then
      aihpc_log "retain: keeping nfs-kernel-server"
    else
      aihpc_have_systemd && aihpc_service_off nfs-server.service
      aihpc_apt_remove storage-nfs
    fi
    for share in ${SHARES:-}; do
      dir="${share%%:*}"
      [ -d "$dir" ] || continue
      if rmdir "$dir" 2>/dev/null; then
        aihpc_log "removed $dir (empty)"
        aihpc_mark_changed
      else
        aihpc_log "kept $dir: it holds data"
      fi
    done
    ;;
esac
aihpc_done
