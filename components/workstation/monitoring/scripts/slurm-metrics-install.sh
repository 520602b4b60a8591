#!/usr/bin/env bash
# Install the Slurm metrics collector and its timer on the controller.
case "$AIHPC_ACTION" in
  apply)
    : "${COLLECTOR:?}" "${INTERVAL:?}"
    aihpc_require_systemd
    aihpc_timer_collector aihpc-slurm-metrics "Slurm metrics for the node exporter textfile collector" "$INTERVAL" 30s "$COLLECTOR" slurmctld.service
    ;;
  delete)
    aihpc_timer_collector_remove aihpc-slurm-metrics /var/lib/prometheus/node-exporter/slurm.prom
    aihpc_have_systemd && systemctl daemon-reload
    ;;
esac
aihpc_done
