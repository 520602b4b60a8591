#!/usr/bin/env bash
# Run by the controller's config step (config.sh) before it writes a slurm.conf
# that drops compute nodes: usage OLD_SLURM_CONF NEW_SLURM_CONF TIMEOUT_SECONDS [POLL_SECONDS].
# slurmctld, restarted without a node, kills the jobs still running there
# ("invalid node"), so every node that leaves is drained first (no new job
# starts there) and its jobs are waited for. Never cancels a job: past the
# timeout it fails, the node stays drained and the caller leaves slurm.conf
# as it was. Exit 0: nothing runs on the leaving nodes (or none leave).
set -euo pipefail
old="$1" new="$2" timeout="$3" poll="${4:-5}"
say() { printf 'aihpc: %s\n' "$*"; }
die() {
  printf 'aihpc: error: %s\n' "$*" >&2
  exit 1
}

# NodeName values, hostlists expanded (the cloud partition is one `prefix[1-N]` line).
names() {
  local v
  grep -o '^NodeName=[^ ]*' "$1" 2>/dev/null | cut -d= -f2 | while IFS= read -r v; do
    scontrol show hostnames "$v"
  done | LC_ALL=C sort -u
}
[ -f "$old" ] || exit 0
leaving="$(LC_ALL=C comm -23 <(names "$old") <(names "$new") | paste -sd, -)"
[ -n "$leaving" ] || exit 0

scontrol ping 2>/dev/null | grep -q 'is UP' ||
  die "node(s) $leaving leave the cluster but slurmctld does not answer, so their jobs cannot be waited for: start slurmctld on the controller (systemctl start slurmctld) and apply again"
known=()
for n in ${leaving//,/ }; do
  if ! state="$(scontrol show node -o "$n" 2>/dev/null)"; then
    say "node $n is not known to slurmctld: nothing to drain"
    continue
  fi
  known+=("$n")
  case "$state" in
    *State=*DRAIN*) ;;
    *)
      scontrol update nodename="$n" state=drain reason="aihpc: removed from workstation.hosts"
      say "drained node $n (removed from workstation.hosts): no new job starts there"
      ;;
  esac
done
[ "${#known[@]}" -gt 0 ] || exit 0
list="$(IFS=,; printf '%s' "${known[*]}")"

# Jobs holding an allocation on these nodes (not pending ones: they hold none).
active=CONFIGURING,RUNNING,SUSPENDED,COMPLETING,STOPPED,SIGNALING,STAGE_OUT,RESIZING
deadline=$((SECONDS + timeout))
next_note=0
while :; do
  jobs="$(squeue -h -w "$list" -t "$active" -o '%i' | LC_ALL=C sort -u | paste -sd' ' -)"
  [ -n "$jobs" ] || break
  left=$((deadline - SECONDS))
  if [ "$left" -le 0 ]; then
    die "node(s) $list still run job(s) $jobs after ${timeout} s (workstation.slurm.drainTimeout): they stay drained and slurm.conf is unchanged, so the jobs keep running; wait for them to end (or scancel them), or raise drainTimeout, then apply again"
  fi
  # A line a minute, so that a long wait shows progress (and keeps the SSH session busy).
  if [ "$SECONDS" -ge "$next_note" ]; then
    say "waiting for job(s) $jobs on node(s) $list to end (${left} s left of workstation.slurm.drainTimeout)"
    next_note=$((SECONDS + 60))
  fi
  sleep "$poll"
done
say "no job runs on node(s) $list: they can leave slurm.conf"
