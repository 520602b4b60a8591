#!/usr/bin/env bash
# aihpc node health check, run by slurmd as HealthCheckProgram. Drains the
# node with a reason starting "aihpc-health:" when a check fails, and resumes
# it when the checks pass again (only nodes it drained itself).
set -uo pipefail
# shellcheck disable=SC1090
. "${AIHPC_HEALTH_CONF:-/etc/aihpc/node-health.conf}"
PATH="${PATH:+$PATH:}/usr/sbin:/usr/bin:/sbin:/bin"

problems=()
systemctl is-active --quiet munge.service 2>/dev/null || problems+=("munge is not running")
for fs in / /tmp /var/lib/slurm; do
  [ -d "$fs" ] || continue
  free="$(df -P "$fs" | awk 'NR == 2 { gsub(/%/, "", $5); print 100 - $5 }')"
  [ "${free:-0}" -ge "$MIN_FREE_PERCENT" ] || problems+=("$fs has ${free}% free")
done
tmpf="$(mktemp /tmp/.aihpc-health.XXXXXX 2>/dev/null)" && rm -f "$tmpf" || problems+=("/tmp is not writable")
case "$GPU_SOURCE" in
  nvidia)
    seen="$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)"
    [ "${seen:-0}" -ge "$EXPECTED_GPUS" ] || problems+=("nvidia-smi lists ${seen:-0} of $EXPECTED_GPUS GPUs")
    # Per GPU: uncorrectable ECC errors since the driver loaded, retired/remapped
    # rows pending, temperature. "[N/A]" (no ECC on the card) counts as none.
    while IFS=', ' read -r idx temp ecc pending; do
      [ -n "$idx" ] || continue
      case "$ecc" in '' | *N/A* | 0) ;; *) problems+=("GPU $idx has $ecc uncorrectable ECC errors") ;; esac
      case "$pending" in Yes) problems+=("GPU $idx has a row remapping pending (reset the GPU)") ;; esac
      case "$temp" in '' | *N/A*) ;; *) [ "$temp" -lt "${MAX_GPU_TEMP:-90}" ] || problems+=("GPU $idx at ${temp} C (limit ${MAX_GPU_TEMP:-90})") ;; esac
    done < <(nvidia-smi --query-gpu=index,temperature.gpu,ecc.errors.uncorrected.volatile.total,remapped_rows.pending --format=csv,noheader,nounits 2>/dev/null)
    # XID events (driver-reported GPU faults) since boot that mean the GPU or
    # its memory needs a reset or service; application faults (13, 31, 43) do not drain.
    xids="$( { journalctl -k -b -q --no-pager 2>/dev/null || dmesg 2>/dev/null; } | sed -n 's/.*NVRM: Xid (\([^)]*\)): \([0-9]*\).*/\2 \1/p' |
      awk -v crit=" ${CRITICAL_XIDS:-48 61 62 63 64 74 79 92 94 95 119 120} " 'index(crit, " " $1 " ") { n[$1 " on " $2]++ } END { for (k in n) printf "Xid %s (%dx) ", k, n[k] }')"
    [ -z "$xids" ] || problems+=("XID events: ${xids% }")
    ;;
  configured)
    for f in $GPU_FILES; do [ -c "$f" ] || problems+=("GPU device $f is missing"); done
    ;;
esac

if [ -n "${AIHPC_HEALTH_DRY_RUN:-}" ]; then
  # Report only (e.g. by hand on a host without Slurm): no drain, no resume.
  if [ "${#problems[@]}" -gt 0 ]; then printf 'problem: %s\n' "${problems[@]}"; exit 1; fi
  echo "healthy"
  exit 0
fi

reason="$(scontrol show node "$NODE_NAME" 2>/dev/null | sed -n 's/^ *Reason=\(.*\) \[.*$/\1/p')"
if [ "${#problems[@]}" -gt 0 ]; then
  msg="aihpc-health: $(printf '%s; ' "${problems[@]}")"
  logger -t aihpc-node-health "$msg"
  [ "$reason" = "${msg%; }" ] || scontrol update NodeName="$NODE_NAME" State=DRAIN Reason="${msg%; }"
elif [ "${reason#aihpc-health:}" != "$reason" ]; then
  scontrol update NodeName="$NODE_NAME" State=RESUME
  logger -t aihpc-node-health "checks pass again: resumed $NODE_NAME"
fi
exit 0
