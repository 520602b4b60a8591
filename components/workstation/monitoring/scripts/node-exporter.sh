#!/usr/bin/env bash
# prometheus-node-exporter with its textfile collector directory (the Slurm
# metrics and later the GPU checks write there), on every host. DROPIN (its
# listen address and flags) is rendered by Pulumi (monitoring/render.ts); URL
# is where this host reaches it.
dropin=/etc/systemd/system/prometheus-node-exporter.service.d/aihpc.conf
textfile=/var/lib/prometheus/node-exporter
case "$AIHPC_ACTION" in
  apply)
    : "${DROPIN:?}" "${URL:?}"
    aihpc_require_systemd
    aihpc_apt_install node-exporter prometheus-node-exporter
    install -d -m 0755 "$textfile"
    aihpc_put "$dropin" 0644 root:root "$DROPIN"
    restart="$AIHPC_WROTE"
    [ "$restart" = 1 ] && systemctl daemon-reload
    aihpc_service prometheus-node-exporter.service "$restart"
    for _ in $(seq 1 20); do
      curl -fsS -o /dev/null "$URL" && break
      sleep 1
    done
    curl -fsS -o /dev/null "$URL" || aihpc_service_failed prometheus-node-exporter.service
    ;;
  delete)
    aihpc_service_off prometheus-node-exporter.service
    aihpc_rm "$dropin"
    rmdir "$(dirname "$dropin")" 2>/dev/null || true
    aihpc_have_systemd && systemctl daemon-reload
    if aihpc_retain monitoring; then
      aihpc_log "retain: keeping prometheus-node-exporter"
    else
      aihpc_apt_remove node-exporter
    fi
    ;;
esac
aihpc_done
