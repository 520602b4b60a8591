#!/usr/bin/env bash
# Container jobs (workstation.slurm.containerJobs) on a compute host: Debian's
# Podman, run rootless by the job's own user (the template container.sbatch).
# Rootless, nothing but the job starts it: no daemon takes the container out
# of the job (as Docker's does), so its processes stay in the job's cgroup,
# see only the devices the job was granted, and die with the job. uidmap gives
# newuidmap/newgidmap (the users' /etc/subuid ranges, which useradd adds).
# Teardown purges what this step installed (unless slurm.retain); images and
# containers users made live in their home folders and stay with them.
case "$AIHPC_ACTION" in
  apply)
    aihpc_require_systemd
    aihpc_apt_install slurm-podman podman uidmap
    ;;
  delete)
    if aihpc_retain slurm; then
      aihpc_log "retain: keeping Podman"
    else
      aihpc_apt_remove slurm-podman
    fi
    ;;
esac
aihpc_done
