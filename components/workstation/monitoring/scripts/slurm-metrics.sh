#!/usr/bin/env bash
# aihpc Slurm metrics for node-exporter's textfile collector, run by
# aihpc-slurm-metrics.timer on the controller. Writes slurm.prom atomically.
set -uo pipefail
PATH="${PATH:+$PATH:}/usr/sbin:/usr/bin:/sbin:/bin"
dir="${TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}"
out="$dir/slurm.prom"
tmp="$(mktemp "$dir/.slurm.prom.XXXXXX")" || exit 1
trap 'rm -f "$tmp"' EXIT

# "gpu:fake:1(S:0),gpu:h200:2" -> 3
gpu_count() { tr ',' '\n' <<<"$1" | sed 's/(.*//' | awk -F: '$1 == "gpu" { n += $NF } END { print n + 0 }'; }

nodes="$(sinfo -h -N -o '%N %T' 2>/dev/null | sort -u)"
sinfo_rc=$?
gres="$(sinfo -h -N -O 'NodeList:64,Gres:128,GresUsed:128' 2>/dev/null | sort -u)"
jobs="$(squeue -h -o '%T' 2>/dev/null)"
squeue_rc=$?
{
  echo '# HELP slurm_scrape_success 1 when sinfo and squeue answered (slurmctld reachable).'
  echo '# TYPE slurm_scrape_success gauge'
  if [ "$sinfo_rc" = 0 ] && [ "$squeue_rc" = 0 ] && [ -n "$nodes" ]; then ok=1; else ok=0; fi
  echo "slurm_scrape_success $ok"
  if [ "$ok" = 1 ]; then
    echo '# HELP slurm_metrics_last_success_timestamp_seconds When the collector last reached slurmctld.'
    echo '# TYPE slurm_metrics_last_success_timestamp_seconds gauge'
    echo "slurm_metrics_last_success_timestamp_seconds $(date +%s)"
    echo '# HELP slurm_node_state 1 for the node state sinfo reports (flags such as * stripped).'
    echo '# TYPE slurm_node_state gauge'
    while read -r node state; do
      [ -n "$node" ] || continue
      state="$(tr -d '*~#$@+!%^-' <<<"$state" | tr '[:upper:]' '[:lower:]')"
      echo "slurm_node_state{node=\"$node\",state=\"$state\"} 1"
    done <<<"$nodes"
    echo '# HELP slurm_node_gpus GPUs (GRES gpu) configured on the node.'
    echo '# TYPE slurm_node_gpus gauge'
    echo '# HELP slurm_node_gpus_allocated GPUs allocated to jobs on the node.'
    echo '# TYPE slurm_node_gpus_allocated gauge'
    while read -r node g used; do
      [ -n "$node" ] || continue
      echo "slurm_node_gpus{node=\"$node\"} $(gpu_count "$g")"
      echo "slurm_node_gpus_allocated{node=\"$node\"} $(gpu_count "$used")"
    done <<<"$gres"
    echo '# HELP slurm_jobs Jobs by state.'
    echo '# TYPE slurm_jobs gauge'
    for s in running pending completing suspended; do
      n="$(grep -ci "^$s\$" <<<"$jobs" || true)"
      echo "slurm_jobs{state=\"$s\"} ${n:-0}"
    done
  fi
} >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
