#!/usr/bin/env bash
# Container jobs (workstation.slurm.containerJobs) on a compute host: Debian's
# Podman, run rootless by the job's own user (the template container.sbatch).
# Rootless, nothing but the job starts it: no daemon takes the container out
# of the job (as Docker's does), so its processes stay in the job's cgroup,
# see only the devices the job was granted, and die with the job. uidmap gives
# newuidmap/newgidmap (the users' /etc/subuid ranges, which useradd adds).
# Teardown purges what this step installed (unless slurm.retain); images and
# containers users made live in their home folders and stay with them.
made="$AIHPC_STATE/podman.made"
root_state=(/var/lib/containers /etc/cni /var/lib/systemd/timers/stamp-podman-auto-update.timer)
case "$AIHPC_ACTION" in
  apply)
    aihpc_require_systemd
    # Root's Podman state (the package's podman-auto-update.timer runs it):
    # what did not exist before this step installed Podman goes on teardown.
    if ! aihpc_installed podman && [ ! -f "$made" ]; then
      install -d -m 0755 "$AIHPC_STATE"
      for f in "${root_state[@]}"; do [ -e "$f" ] || echo "$f"; done >"$made"
    fi
    aihpc_apt_install slurm-podman podman uidmap
    ;;
  delete)
    if aihpc_retain slurm; then
      aihpc_log "retain: keeping Podman"
    else
      # Root's images or containers are someone's data: then its storage stays.
      keep_storage=0
      if aihpc_installed podman && [ -n "$(podman ps -aq 2>/dev/null)$(podman images -q 2>/dev/null)" ]; then keep_storage=1; fi
      aihpc_apt_remove slurm-podman
      if [ -f "$made" ]; then
        while read -r f; do
          if [ -z "$f" ] || [ ! -e "$f" ]; then continue; fi
          if [ "$f" = /var/lib/containers ] && [ "$keep_storage" = 1 ]; then
            aihpc_warn "keeping $f: root's Podman images or containers are in it"
            continue
          fi
          rm -rf "$f" && aihpc_log "removed $f" && aihpc_mark_changed
        done <"$made"
        rm -f "$made"
      fi
    fi
    ;;
esac
aihpc_done
