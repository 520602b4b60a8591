#!/usr/bin/env bash
# The accounting database's nightly dump: the backup and restore commands
# and a systemd timer (units rendered by conf.ts). Teardown removes the
# timer and the commands; the dumps stay when accounting is retained.
bin=/usr/local/sbin/aihpc-slurmdbd-backup
restore=/usr/local/sbin/aihpc-slurmdbd-restore
unit=/etc/systemd/system/aihpc-slurmdbd-backup
case "$AIHPC_ACTION" in
  apply)
    : "${BACKUP_SCRIPT:?}" "${RESTORE_SCRIPT:?}" "${SERVICE_UNIT:?}" "${TIMER_UNIT:?}"
    aihpc_require_systemd
    aihpc_put "$bin" 0755 root:root "$BACKUP_SCRIPT"
    aihpc_put "$restore" 0755 root:root "$RESTORE_SCRIPT"
    reload=0
    aihpc_put "$unit.service" 0644 root:root "$SERVICE_UNIT"
    [ "$AIHPC_WROTE" = 1 ] && reload=1
    aihpc_put "$unit.timer" 0644 root:root "$TIMER_UNIT"
    [ "$AIHPC_WROTE" = 1 ] && reload=1
    # A daemon-reload can fail while another step's systemctl call is in flight (and the reverse): retry.
    if [ "$reload" = 1 ]; then
      for _ in 1 2 3 4 5; do systemctl daemon-reload && break; sleep 2; done
    fi
    aihpc_service aihpc-slurmdbd-backup.timer "$reload"
    ;;
  delete)
    if aihpc_have_systemd; then
      aihpc_service_off aihpc-slurmdbd-backup.timer
      aihpc_service_off aihpc-slurmdbd-backup.service
    fi
    # Persistent=true: systemd keeps the last run's time in a stamp file.
    aihpc_rm "$unit.service" "$unit.timer" "$bin" "$restore" /var/lib/systemd/timers/stamp-aihpc-slurmdbd-backup.timer
    # No daemon-reload: the units are stopped and disabled, and a reload here
    # would race the other steps tearing down on this host (systemctl calls
    # fail while PID 1 reloads); the next reload forgets them.
    if aihpc_retain slurm-accounting; then
      aihpc_log "retain: keeping the dumps in ${BACKUP_DIR:-the backup folder}"
    elif [ -n "${BACKUP_DIR:-}" ] && [ -d "$BACKUP_DIR" ]; then
      rm -rf "$BACKUP_DIR"
      aihpc_log "removed $BACKUP_DIR"
      aihpc_mark_changed
    fi
    ;;
esac
aihpc_done
