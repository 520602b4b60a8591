#!/usr/bin/env bash
# The cluster's munge key, the same on every host. It arrives base64 on stdin
# (never in the command line) and is written 0400 munge:munge.
key=/etc/munge/munge.key
case "$AIHPC_ACTION" in
  apply)
    getent passwd munge >/dev/null || aihpc_die "user munge is missing: the munge package did not install; re-run the Slurm packages step"
    tmp="$(mktemp)"
    trap 'rm -f "$tmp"' EXIT
    if ! base64 -d >"$tmp" 2>/dev/null || [ "$(stat -c %s "$tmp")" -lt 32 ]; then
      aihpc_die "no munge key on stdin (expected base64 of at least 32 bytes); this step must be run by Pulumi, which sends it"
    fi
    restart=0
    if ! cmp -s "$tmp" "$key" || [ "$(stat -c '%a %U:%G' "$key")" != "400 munge:munge" ]; then
      install -d -m 0700 -o munge -g munge /etc/munge
      install -m 0400 -o munge -g munge "$tmp" "$key.aihpc-new"
      mv -f "$key.aihpc-new" "$key"
      aihpc_log "installed the cluster munge key"
      aihpc_mark_changed
      restart=1
    fi
    aihpc_service munge.service "$restart"
    # Slurm daemons started with another key must pick up this one.
    if [ "$restart" = 1 ]; then
      for u in slurmctld.service slurmd.service; do
        if systemctl is-active --quiet "$u"; then systemctl restart "$u" && aihpc_log "restarted $u for the new key"; fi
      done
    fi
    ;;
  delete)
    if aihpc_retain slurm; then
      aihpc_log "retain: keeping $key"
    else
      aihpc_service_off munge.service
      aihpc_rm "$key"
    fi
    ;;
esac
aihpc_done
