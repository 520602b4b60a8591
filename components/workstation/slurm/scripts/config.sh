#!/usr/bin/env bash
# slurm.conf, gres.conf and cgroup.conf in CONF_DIR (rendered in slurm/conf.ts
# from the host facts), then the daemons. Only partition lines changed: `scontrol reconfigure` on the
# controller. Anything else: restart the daemons of this host (slurmd re-reads
# gres.conf and cgroup.conf only at start; new nodes need a restart in 22.05).
# Restarts keep running jobs (slurmstepd outlives slurmd: KillMode=process in
# Debian's unit); nodes that leave are drained and waited for first
# (drain-removed.sh). The compute hosts' steps run after the controller's.
: "${CONF_DIR:?}"
dir="$CONF_DIR"
case "$AIHPC_ACTION" in
  apply)
    : "${SLURM_CONF:?}" "${GRES_CONF:?}" "${CGROUP_CONF:?}" "${CONTROLLER:?}" "${COMPUTE:?}"
    # Slurm's commands read SLURM_CONF as the path of slurm.conf: keep the
    # text, drop the variable, or scontrol below retries for a minute and fails.
    slurm_conf="$SLURM_CONF"
    unset SLURM_CONF
    aihpc_require_systemd
    getent passwd slurm >/dev/null || aihpc_die "user slurm is missing: the Slurm packages did not install; re-run"
    install -d -m 0755 -o slurm -g slurm /var/lib/slurm /var/log/slurm
    [ "$CONTROLLER" = 1 ] && install -d -m 0700 -o slurm -g slurm /var/lib/slurm/slurmctld
    [ "$COMPUTE" = 1 ] && install -d -m 0755 -o root -g root /var/lib/slurm/slurmd
    # What differs apart from the partitions decides between reconfigure and restart.
    strip() { grep -v '^PartitionName=' "$1" 2>/dev/null || true; }
    old_rest="$(strip "$dir/slurm.conf")"
    # Compute nodes leaving: drain them and wait for their jobs before slurmctld
    # forgets them (it kills jobs on nodes it no longer knows). Past
    # DRAIN_TIMEOUT this fails and the old slurm.conf stays.
    if [ "$CONTROLLER" = 1 ] && [ -f "$dir/slurm.conf" ]; then
      : "${DRAIN_PROGRAM:?}" "${DRAIN_TIMEOUT:?}"
      new_conf="$(mktemp)"
      printf '%s\n' "$slurm_conf" >"$new_conf"
      rc=0
      bash -c "$DRAIN_PROGRAM" aihpc-drain-removed "$dir/slurm.conf" "$new_conf" "$DRAIN_TIMEOUT" || rc=$?
      rm -f "$new_conf"
      [ "$rc" = 0 ] || exit "$rc"
    fi
    aihpc_put "$dir/slurm.conf" 0644 root:root "$slurm_conf"
    conf_changed="$AIHPC_WROTE"
    restart=0
    if [ "$conf_changed" = 1 ] && [ "$old_rest" != "$(strip "$dir/slurm.conf")" ]; then restart=1; fi
    # AutoDetect=nvml needs the NVML plugin, which the packages step installs
    # only when apt can (packages.sh): without it slurmd would not start.
    if ! aihpc_installed slurm-wlm-nvml-plugin; then GRES_CONF="$(printf '%s\n' "$GRES_CONF" | grep -vx 'AutoDetect=nvml' || true)"; fi
    aihpc_put "$dir/gres.conf" 0644 root:root "$GRES_CONF"
    [ "$AIHPC_WROTE" = 1 ] && restart=1
    aihpc_put "$dir/cgroup.conf" 0644 root:root "$CGROUP_CONF"
    [ "$AIHPC_WROTE" = 1 ] && restart=1
    if [ "$CONTROLLER" = 1 ]; then
      aihpc_service slurmctld.service "$restart"
      ok=0
      for _ in $(seq 1 30); do
        if scontrol ping 2>/dev/null | grep -q 'is UP'; then ok=1 && break; fi
        sleep 1
      done
      [ "$ok" = 1 ] || aihpc_service_failed slurmctld.service
      if [ "$conf_changed" = 1 ] && [ "$restart" = 0 ]; then
        scontrol reconfigure && aihpc_log "scontrol reconfigure (partitions changed)"
      fi
    fi
    if [ "$COMPUTE" = 1 ]; then
      aihpc_service slurmd.service "$restart"
      # Partitions only: slurmd re-reads slurm.conf on SIGHUP (its unit's reload).
      if [ "$conf_changed" = 1 ] && [ "$restart" = 0 ] && [ "$CONTROLLER" = 0 ]; then
        systemctl reload slurmd.service && aihpc_log "reloaded slurmd (partitions changed)"
      fi
    fi
    ;;
  delete)
    aihpc_have_systemd && for u in slurmd.service slurmctld.service; do aihpc_service_off "$u"; done
    aihpc_rm "$dir/slurm.conf" "$dir/gres.conf" "$dir/cgroup.conf"
    ;;
esac
aihpc_done
