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

# The window of the per-user usage and wait metrics (label window="24h").
WINDOW_SECONDS=86400

accounting() {
  local now from jobs_rc jobs shares shares_rc pend
  now="$(date +%s)"
  from=$((now - WINDOW_SECONDS))
  # Allocations that ran or waited in the window: times as epoch seconds
  # ("Unknown" while not started or not ended).
  jobs="$(SLURM_TIME_FORMAT=%s sacct -a -X -n -P -S "$(date -d "@$from" +%Y-%m-%dT%H:%M:%S)" -E now --format=User,Account,Submit,Start,End,AllocTRES 2>/dev/null)"
  jobs_rc=$?
  shares="$(sshare -nP -a -o Account,User,RawUsage,EffectvUsage,FairShare 2>/dev/null)"
  shares_rc=$?
  pend="$(SLURM_TIME_FORMAT=%s squeue -h -t PD -o '%u|%a|%V' 2>/dev/null)"
  echo '# HELP slurm_accounting_scrape_success 1 when sacct and sshare answered (slurmdbd reachable).'
  echo '# TYPE slurm_accounting_scrape_success gauge'
  if [ "$jobs_rc" != 0 ] || [ "$shares_rc" != 0 ]; then
    echo "slurm_accounting_scrape_success 0"
    return 0
  fi
  echo "slurm_accounting_scrape_success 1"
  printf '%s\n' "$jobs" | awk -F'|' -v now="$now" -v from="$from" '
    function esc(v) { gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); return v }
    $1 == "" { next }
    {
      k = "user=\"" esc($1) "\",account=\"" esc($2) "\",window=\"24h\""
      seen[k] = 1
      gpus = 0
      n = split($6, tres, ",")
      for (i = 1; i <= n; i++) if (tres[i] ~ /^gres\/gpu=/) { sub(/^gres\/gpu=/, "", tres[i]); gpus = tres[i] + 0 }
      start = $4; end = $5
      if (start !~ /^[0-9]+$/) next
      if (end !~ /^[0-9]+$/ || end > now) end = now
      b = start > from ? start : from
      if (end > b) gpusec[k] += gpus * (end - b)
      # The wait of each job that started in the window.
      if (start >= from && $3 ~ /^[0-9]+$/) {
        w = start - $3; if (w < 0) w = 0
        wsum[k] += w; wcount[k]++
        if (w > wmax[k]) wmax[k] = w
      }
    }
    END {
      print "# HELP slurm_user_gpu_seconds GPU-seconds allocated to the user'"'"'s jobs (whole GPUs, gres/gpu) within the window, running jobs so far (dashboards show hours)."
      print "# TYPE slurm_user_gpu_seconds gauge"
      for (k in seen) printf "slurm_user_gpu_seconds{%s} %d\n", k, gpusec[k]
      print "# HELP slurm_user_jobs_started The user'"'"'s jobs that started within the window."
      print "# TYPE slurm_user_jobs_started gauge"
      for (k in seen) printf "slurm_user_jobs_started{%s} %d\n", k, wcount[k]
      print "# HELP slurm_user_queue_wait_seconds_mean Mean seconds from submit to start of the user'"'"'s jobs that started within the window (0 when none did)."
      print "# TYPE slurm_user_queue_wait_seconds_mean gauge"
      for (k in seen) printf "slurm_user_queue_wait_seconds_mean{%s} %.3f\n", k, (wcount[k] ? wsum[k] / wcount[k] : 0)
      print "# HELP slurm_user_queue_wait_seconds_max The longest wait of the user'"'"'s jobs that started within the window."
      print "# TYPE slurm_user_queue_wait_seconds_max gauge"
      for (k in seen) printf "slurm_user_queue_wait_seconds_max{%s} %d\n", k, wmax[k]
    }'
  printf '%s\n' "$pend" | awk -F'|' -v now="$now" '
    function esc(v) { gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); return v }
    $1 == "" { next }
    {
      k = "user=\"" esc($1) "\",account=\"" esc($2) "\""
      n[k]++
      if ($3 ~ /^[0-9]+$/ && now - $3 > m[k]) m[k] = now - $3
    }
    END {
      print "# HELP slurm_user_jobs_pending The user'"'"'s jobs waiting now."
      print "# TYPE slurm_user_jobs_pending gauge"
      for (k in n) printf "slurm_user_jobs_pending{%s} %d\n", k, n[k]
      print "# HELP slurm_user_pending_wait_seconds_max How long the user'"'"'s oldest waiting job has waited."
      print "# TYPE slurm_user_pending_wait_seconds_max gauge"
      for (k in n) printf "slurm_user_pending_wait_seconds_max{%s} %d\n", k, m[k]
    }'
  # sshare indents accounts by depth; a line with a user is that user's
  # association, one without is the account.
  printf '%s\n' "$shares" | awk -F'|' '
    function esc(v) { gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); return v }
    { a = $1; sub(/^ +/, "", a) }
    a == "" { next }
    {
      k = "account=\"" esc(a) "\",user=\"" esc($2) "\""
      raw[k] = $3 + 0; eff[k] = $4 + 0; fs[k] = $5
    }
    END {
      print "# HELP slurm_share_raw_usage Decayed usage of the association (sshare RawUsage, TRES-seconds weighted by billing)."
      print "# TYPE slurm_share_raw_usage gauge"
      for (k in raw) printf "slurm_share_raw_usage{%s} %.0f\n", k, raw[k]
      print "# HELP slurm_share_effective_usage The association'"'"'s share of its parent'"'"'s usage (sshare EffectvUsage)."
      print "# TYPE slurm_share_effective_usage gauge"
      for (k in raw) printf "slurm_share_effective_usage{%s} %.6f\n", k, eff[k]
      print "# HELP slurm_share_fairshare The fair-share factor, 0 to 1 (sshare FairShare; users only): higher goes first."
      print "# TYPE slurm_share_fairshare gauge"
      for (k in raw) if (k !~ /user=""$/ && fs[k] != "") printf "slurm_share_fairshare{%s} %.6f\n", k, fs[k]
    }'
}

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
  # Accounting and fair share, where slurmctld sends jobs to slurmdbd
  # (workstation.slurm.accounting): what each user used and waited over the
  # last day, from sacct; the fair-share tree from sshare.
  if [ "$ok" = 1 ] && scontrol show config 2>/dev/null | grep -Eq '^AccountingStorageType *= *accounting_storage/slurmdbd'; then
    accounting
  fi
} >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
