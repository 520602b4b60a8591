#!/usr/bin/env bash
# Data on the workstation: the datasets bucket pulled on a systemd timer
# (`gcloud storage rsync`, MODE=rsync) or mounted (Cloud Storage FUSE,
# MODE=gcsfuse), checkpoints pushed by the same timer; directories group-owned
# by the research group (setgid) so Slurm jobs read and write them. Teardown
# stops and removes the units and the program; directories that hold data stay.
# MODE, DATASETS_DIR, CHECKPOINTS_DIR, GROUP, ENV_FILE_PATH, CREDENTIALS_ENV;
# SYNC_PROGRAM (bundled) at PROGRAM_FILE; SERVICE_UNIT and TIMER_UNIT (rendered
# in hybrid/data/files.ts) as SERVICE and TIMER in UNIT_DIR. The gcsfuse unit
# (MOUNT) is written here: its --gid is the research group's id on this host.
: "${PROGRAM_FILE:?}" "${UNIT_DIR:?}" "${SERVICE:?}" "${TIMER:?}" "${MOUNT:?}"
prog="$PROGRAM_FILE"
unitdir="$UNIT_DIR"
service="$SERVICE"
timer="$TIMER"
mount="$MOUNT"
record="$AIHPC_STATE/hybrid-data.dirs"
case "$AIHPC_ACTION" in
  apply)
    : "${MODE:?}" "${DATASETS_DIR:?}" "${CHECKPOINTS_DIR:?}" "${GROUP:?}" "${ENV_FILE_PATH:?}" "${CREDENTIALS_ENV:?}" "${SYNC_PROGRAM:?}" "${SERVICE_UNIT:?}" "${TIMER_UNIT:?}"
    aihpc_require_systemd
    [ -f "$ENV_FILE_PATH" ] || aihpc_die "$ENV_FILE_PATH is missing: the hybrid env step writes it first"
    getent group "$GROUP" >/dev/null || aihpc_die "group $GROUP does not exist: workstation.base creates the research group"
    install -d -m 0755 "$AIHPC_STATE"
    for d in "$DATASETS_DIR" "$CHECKPOINTS_DIR"; do
      if [ ! -d "$d" ]; then
        install -d -m 2775 -o root -g "$GROUP" "$d"
        echo "$d" >>"$record"
        aihpc_log "created $d"
        aihpc_mark_changed
      fi
    done
    aihpc_put "$prog" 0755 root:root "$SYNC_PROGRAM"
    reload=0
    aihpc_put "$unitdir/$service" 0644 root:root "$SERVICE_UNIT"
    aihpc_wrote && reload=1
    aihpc_put "$unitdir/$timer" 0644 root:root "$TIMER_UNIT"
    aihpc_wrote && reload=1
    if [ "$MODE" = gcsfuse ]; then
      command -v gcsfuse >/dev/null || aihpc_die "gcsfuse is not installed: keep gcp.hybrid.gcloudCli.install on (it installs gcsfuse with data.mode gcsfuse), or use data.mode rsync"
      # shellcheck disable=SC1090 # the env step's file
      bucket="$(. "$ENV_FILE_PATH" && echo "${AIHPC_DATASETS_BUCKET#gs://}")"
      aihpc_put "$unitdir/$mount" 0644 root:root "# Managed by aihpc (gcp.hybrid.data.mode gcsfuse)
[Unit]
Description=aihpc: datasets bucket at $DATASETS_DIR (Cloud Storage FUSE)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
$CREDENTIALS_ENV
ExecStart=/usr/bin/gcsfuse --foreground --implicit-dirs -o allow_other --gid $(getent group "$GROUP" | cut -d: -f3) --file-mode 664 --dir-mode 2775 $bucket $DATASETS_DIR
ExecStop=/bin/fusermount -u $DATASETS_DIR
Restart=on-failure
RestartSec=30

[Install]
WantedBy=multi-user.target"
      aihpc_wrote && reload=1
    else
      if [ -f "$unitdir/$mount" ]; then
        aihpc_service_off "$mount"
        aihpc_rm "$unitdir/$mount"
        reload=1
      fi
    fi
    [ "$reload" = 1 ] && aihpc_daemon_reload
    if [ "$MODE" = gcsfuse ]; then aihpc_service "$mount" "$reload"; fi
    aihpc_service "$timer" "$reload"
    ;;
  delete)
    for u in "$timer" "$service" "$mount"; do aihpc_service_off "$u"; done
    aihpc_rm "$unitdir/$timer" "$unitdir/$service" "$unitdir/$mount" "$prog"
    aihpc_have_systemd && aihpc_daemon_reload
    if [ -f "$record" ]; then
      while read -r d; do
        if [ -z "$d" ] || [ ! -d "$d" ]; then continue; fi
        if rmdir "$d" 2>/dev/null; then
          aihpc_log "removed $d"
          aihpc_mark_changed
          rmdir "$(dirname "$d")" 2>/dev/null || true
        else
          aihpc_log "kept $d: it holds data"
        fi
      done <"$record"
      rm -f "$record"
    fi
    ;;
esac
aihpc_done
