#!/usr/bin/env bash
# aihpc node health check, run by slurmd as HealthCheckProgram. Drains the
# node with a reason starting "aihpc-health:" when a check fails, and resumes
# it when the checks pass again (only nodes it drained itself).
set -uo pipefail
# shellcheck disable=SC1091
. /etc/aihpc/node-health.conf
PATH="${PATH:+$PATH:}/usr/sbin:/usr/bin:/sbin:/bin"

problems=()
systemctl is-active --quiet munge.service || problems+=("munge is not running")
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
    ;;
  configured)
    for f in $GPU_FILES; do [ -c "$f" ] || problems+=("GPU device $f is missing"); done
    ;;
esac

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
