#!/usr/bin/env bash
# The cloud partition's programs on the Slurm controller (gcp.cloudNodes):
# ResumeProgram, SuspendProgram, ResumeFailProgram (aihpc-cloud-*), their
# settings, and the reconciler on a timer. Delete drains the partition,
# cancels its jobs and deletes every cloud node (and fails while one is
# left), before Pulumi removes the template, identities and network.
# slurmctld runs the programs as SlurmUser: it gets its own copy of the
# workstation's X.509 credential (0600, slurm), made from root's set in CERT_DIR.
# Apply: CLOUD_PROGRAM, CLOUD_RESUME, CLOUD_SUSPEND, CLOUD_RESUME_FAIL, CLOUD_SERVICE, CLOUD_TIMER (texts), CLOUD_CONFIG (JSON),
# CERT_DIR, CERT_SHA256 (of the certificate: a renewal re-runs this step).
# Delete: PARTITION.
sbin=/usr/local/sbin
conf=/etc/aihpc/cloud-nodes.json
state=/var/lib/aihpc/cloud-nodes
prom=/var/lib/prometheus/node-exporter/aihpc_cloud_nodes.prom
unit=/etc/systemd/system/aihpc-cloud-reconcile
cred_dir=/var/lib/aihpc/cloud-nodes-gcp
case "$AIHPC_ACTION" in
  apply)
    : "${CLOUD_PROGRAM:?}" "${CLOUD_RESUME:?}" "${CLOUD_SUSPEND:?}" "${CLOUD_RESUME_FAIL:?}" "${CLOUD_CONFIG:?}" "${CLOUD_SERVICE:?}" "${CLOUD_TIMER:?}"
    getent passwd slurm >/dev/null || aihpc_die "user slurm is missing: the controller's Slurm packages come first"
    # The programs are Python 3 (Debian's; no other package).
    aihpc_apt_install cloud-nodes python3
    aihpc_put "$conf" 0644 root:root "$CLOUD_CONFIG"
    programs=0
    aihpc_put "$sbin/aihpc-cloud-nodes" 0755 root:root "$CLOUD_PROGRAM"
    aihpc_wrote && programs=1
    aihpc_put "$sbin/aihpc-cloud-resume" 0755 root:root "$CLOUD_RESUME"
    aihpc_wrote && programs=1
    aihpc_put "$sbin/aihpc-cloud-suspend" 0755 root:root "$CLOUD_SUSPEND"
    aihpc_wrote && programs=1
    aihpc_put "$sbin/aihpc-cloud-resume-fail" 0755 root:root "$CLOUD_RESUME_FAIL"
    aihpc_wrote && programs=1
    : "${CERT_DIR:?}" "${CERT_SHA256:?}"
    command -v jq >/dev/null || aihpc_die "jq is needed to write SlurmUser's credential configuration (workstation.base installs it)"
    for f in credentials.json client.crt client.key; do
      [ -r "$CERT_DIR/$f" ] || aihpc_die "$CERT_DIR/$f is missing: the workstation's credential step (gcp.hybrid) comes first"
    done
    [ "$(sha256sum "$CERT_DIR/client.crt" | cut -d' ' -f1)" = "$CERT_SHA256" ] ||
      aihpc_die "$CERT_DIR/client.crt is not the stack's current certificate: re-run pulumi up (the credential step renews it)"
    if [ ! -d "$cred_dir" ]; then
      install -d -m 0700 -o slurm -g slurm "$cred_dir"
      aihpc_mark_changed
    fi
    # The credential configuration names its certificate configuration by path: this copy's.
    aihpc_put "$cred_dir/credentials.json" 0600 slurm:slurm "$(jq --arg p "$cred_dir/certificate_config.json" '.credential_source.certificate.certificate_config_location = $p' "$CERT_DIR/credentials.json")"
    aihpc_put "$cred_dir/certificate_config.json" 0600 slurm:slurm "$(jq -n --arg c "$cred_dir/client.crt" --arg k "$cred_dir/client.key" '{cert_configs: {workload: {cert_path: $c, key_path: $k}}}')"
    aihpc_put "$cred_dir/client.crt" 0600 slurm:slurm "$(cat "$CERT_DIR/client.crt")"
    # The key stays in this shell (aihpc_put writes it with printf, a builtin): never in an argument list.
    aihpc_put "$cred_dir/client.key" 0600 slurm:slurm "$(cat "$CERT_DIR/client.key")"
    # slurmctld runs the power-save programs as SlurmUser: the back-off state is its.
    if [ ! -d "$state" ]; then
      install -d -m 0700 -o slurm -g slurm "$state"
      aihpc_mark_changed
    fi
    aihpc_put "$unit.service" 0644 root:root "$CLOUD_SERVICE"
    units="$AIHPC_WROTE"
    aihpc_put "$unit.timer" 0644 root:root "$CLOUD_TIMER"
    [ "$AIHPC_WROTE" = 1 ] && units=1
    if aihpc_have_systemd; then
      [ "$units" = 1 ] && systemctl daemon-reload
      aihpc_service aihpc-cloud-reconcile.timer "$units"
      # slurmctld checks ResumeProgram and SuspendProgram when it starts, and turns power saving off for
      # good when they are missing (it started with the cloud lines before this step): restart it now.
      if [ "$programs" = 1 ] && systemctl is-active --quiet slurmctld; then
        systemctl restart slurmctld
        aihpc_log "restarted slurmctld: power saving with the installed programs"
      fi
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
    aihpc_rm "$cred_dir/credentials.json" "$cred_dir/certificate_config.json" "$cred_dir/client.crt" "$cred_dir/client.key"
    if [ -d "$cred_dir" ]; then rmdir "$cred_dir"; aihpc_mark_changed; fi
    if [ -d "$state" ]; then rm -rf "$state"; aihpc_mark_changed; fi
    aihpc_apt_remove cloud-nodes
    ;;
esac
aihpc_done
