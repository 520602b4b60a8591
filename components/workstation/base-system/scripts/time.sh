#!/usr/bin/env bash
# Time zone and chrony's extra NTP servers (chrony itself comes with the
# packages step): CHRONY_SOURCES (rendered in base-system/files.ts; empty: no
# extra servers) at SOURCES_FILE. In a container without CAP_SYS_TIME chrony's
# unit skips itself by design; that is not an error.
: "${SOURCES_FILE:?}"
sources="$SOURCES_FILE"
case "$AIHPC_ACTION" in
  apply)
    : "${TIMEZONE:?}"
    case "$TIMEZONE" in
      *..* | /* | *[!A-Za-z0-9_+/-]*) aihpc_die "workstation.base.timezone: '$TIMEZONE' is not a time zone name such as Europe/Berlin" ;;
    esac
    [ -f "/usr/share/zoneinfo/$TIMEZONE" ] || aihpc_die "unknown time zone '$TIMEZONE' (no /usr/share/zoneinfo/$TIMEZONE): use a name such as Europe/Berlin"
    if [ "$(readlink /etc/localtime || true)" != "/usr/share/zoneinfo/$TIMEZONE" ]; then
      ln -sfn "/usr/share/zoneinfo/$TIMEZONE" /etc/localtime
      aihpc_log "time zone $TIMEZONE"
      aihpc_mark_changed
    fi
    aihpc_put /etc/timezone 0644 root:root "$TIMEZONE"
    restart=0
    if [ -n "${CHRONY_SOURCES:-}" ]; then
      aihpc_put "$sources" 0644 root:root "$CHRONY_SOURCES"
    else
      aihpc_rm "$sources"
    fi
    [ "$AIHPC_WROTE" = 1 ] && restart=1
    if aihpc_have_systemd && aihpc_unit_exists chrony.service; then
      aihpc_service chrony.service "$restart"
    fi
    ;;
  delete)
    aihpc_rm "$sources"
    if [ "$AIHPC_WROTE" = 1 ] && aihpc_have_systemd && systemctl is-active --quiet chrony.service; then
      systemctl restart chrony.service || true
    fi
    ;;
esac
aihpc_done
