#!/usr/bin/env bash
# Debian 12's Slurm 22.05 and munge: slurmctld on the controller, slurmd on
# compute hosts, the client tools everywhere. Teardown stops the daemons and
# purges only what this step installed (unless slurm.retain).
case "$AIHPC_ACTION" in
  apply)
    : "${PACKAGES:?}"
    aihpc_require_systemd
    read -r -a pkgs <<<"$PACKAGES"
    aihpc_apt_install slurm "${pkgs[@]}"
    ;;
  delete)
    for u in slurmctld.service slurmd.service munge.service; do aihpc_service_off "$u"; done
    if aihpc_retain slurm; then
      aihpc_log "retain: keeping the Slurm and munge packages and their state"
    else
      aihpc_apt_remove slurm
    fi
    ;;
esac
aihpc_done
