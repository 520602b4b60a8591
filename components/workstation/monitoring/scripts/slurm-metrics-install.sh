#!/usr/bin/env bash
# Install the Slurm metrics collector and its timer on the controller.
prog=/usr/local/sbin/aihpc-slurm-metrics
svc=/etc/systemd/system/aihpc-slurm-metrics.service
timer=/etc/systemd/system/aihpc-slurm-metrics.timer
case "$AIHPC_ACTION" in
  apply)
    : "${COLLECTOR:?}" "${INTERVAL:?}"
    aihpc_require_systemd
    aihpc_put "$prog" 0755 root:root "$COLLECTOR"
    aihpc_put "$svc" 0644 root:root "# Managed by aihpc
[Unit]
Description=aihpc: Slurm metrics for the node exporter textfile collector
After=slurmctld.service

[Service]
Type=oneshot
ExecStart=$prog"
    units="$AIHPC_WROTE"
    aihpc_put "$timer" 0644 root:root "# Managed by aihpc (workstation.monitoring.prometheus.scrapeInterval)
[Unit]
Description=aihpc: collect Slurm metrics every $INTERVAL

[Timer]
OnBootSec=30s
OnUnitActiveSec=$INTERVAL
AccuracySec=1s

[Install]
WantedBy=timers.target"
    [ "$AIHPC_WROTE" = 1 ] && units=1
    [ "$units" = 1 ] && systemctl daemon-reload
    aihpc_service aihpc-slurm-metrics.timer "$units"
    systemctl start aihpc-slurm-metrics.service || aihpc_warn "first Slurm metrics run failed: see journalctl -u aihpc-slurm-metrics"
    ;;
  delete)
    aihpc_service_off aihpc-slurm-metrics.timer
    aihpc_rm "$timer" "$svc" "$prog" /var/lib/prometheus/node-exporter/slurm.prom
    aihpc_have_systemd && systemctl daemon-reload
    ;;
esac
aihpc_done
