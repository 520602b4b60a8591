#!/usr/bin/env bash
# The cloud partition's programs on the Slurm controller (gcp.cloudNodes):
# ResumeProgram, SuspendProgram, ResumeFailProgram (aihpc-cloud-*), their
# settings, and the reconciler on a timer. Delete drains the partition,
# cancels its jobs and deletes every cloud node (and fails while one is
# left), before Pulumi removes the template, identities and network.
# Apply: CLOUD_PROGRAM, CLOUD_RESUME, CLOUD_SUSPEND, CLOUD_RESUME_FAIL (texts), CLOUD_CONFIG (JSON), INTERVAL.
# Delete: PARTITION.
sbin=/usr/local/sbin
conf=/etc/aihpc/cloud-nodes.json
state=/var/lib/aihpc/cloud-nodes
prom=/var/lib/prometheus/node-exporter/aihpc_cloud_nodes.prom
unit=/etc/systemd/system/aihpc-cloud-reconcile
case "$AIHPC_ACTION" in
  apply)
    : "${CLOUD_PROGRAM:?}" "${CLOUD_RESUME:?}" "${CLOUD_SUSPEND:?}" "${CLOUD_RESUME_FAIL:?}" "${CLOUD_CONFIG:?}" "${INTERVAL:?}"
    getent passwd slurm >/dev/null || aihpc_die "user slurm is missing: the controller's Slurm packages come first"
    aihpc_put "$conf" 0644 root:root "$CLOUD_CONFIG"
    aihpc_put "$sbin/aihpc-cloud-nodes" 0755 root:root "$CLOUD_PROGRAM"
    aihpc_put "$sbin/aihpc-cloud-resume" 0755 root:root "$CLOUD_RESUME"
    aihpc_put "$sbin/aihpc-cloud-suspend" 0755 root:root "$CLOUD_SUSPEND"
    aihpc_put "$sbin/aihpc-cloud-resume-fail" 0755 root:root "$CLOUD_RESUME_FAIL"
    # slurmctld runs the power-save programs as SlurmUser: the back-off state is its.
    if [ ! -d "$state" ]; then
      install -d -m 0700 -o slurm -g slurm "$state"
      aihpc_mark_changed
    fi
    aihpc_put "$unit.service" 0644 root:root "# Managed by aihpc (gcp.cloudNodes)
[Unit]
Description=aihpc: delete cloud nodes Slurm does not account for, return nodes after their back-off
After=slurmctld.service

[Service]
Type=oneshot
User=slurm
ExecStart=$sbin/aihpc-cloud-nodes reconcile"
    units="$AIHPC_WROTE"
    aihpc_put "$unit.timer" 0644 root:root "# Managed by aihpc (gcp.cloudNodes)
[Unit]
Description=aihpc: cloud node reconciler every $INTERVAL

[Timer]
OnBootSec=2min
OnUnitActiveSec=$INTERVAL

[Install]
WantedBy=timers.target"
    [ "$AIHPC_WROTE" = 1 ] && units=1
    if aihpc_have_systemd; then
      [ "$units" = 1 ] && systemctl daemon-reload
      aihpc_service aihpc-cloud-reconcile.timer "$units"
    fi
    ;;
  delete)
    : "${PARTITION:?}"
    if [ -x "$sbin/aihpc-cloud-nodes" ] && [ -f "$conf" ]; then
      # Drain: no new job lands in the cloud; the running ones are cancelled (their nodes are about to go).
      if command -v scontrol >/dev/null && scontrol show partition "$PARTITION" >/dev/null 2>&1; then
        scontrol update partitionname="$PARTITION" state=drain && aihpc_log "drained partition $PARTITION"
        scancel --partition="$PARTITION" || aihpc_warn "scancel --partition=$PARTITION failed"
      fi
      "$sbin/aihpc-cloud-nodes" teardown ||
        aihpc_die "cloud nodes are still running (see above): the template, identities and network stay until they are gone; re-run pulumi destroy"
      aihpc_mark_changed
    fi
    if aihpc_have_systemd; then aihpc_service_off aihpc-cloud-reconcile.timer; fi
    aihpc_rm "$unit.timer" "$unit.service" "$conf" "$prom" "$sbin/aihpc-cloud-nodes" "$sbin/aihpc-cloud-resume" "$sbin/aihpc-cloud-suspend" "$sbin/aihpc-cloud-resume-fail"
    if [ -d "$state" ]; then rm -rf "$state"; aihpc_mark_changed; fi
    ;;
esac
aihpc_done
