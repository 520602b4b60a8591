#!/usr/bin/env bash
# aihpc GPU epilog, run by slurmd as root after every job on a compute node
# (Epilog= in slurm.conf). A job's processes must be gone from its GPUs when
# it ends; any compute process still on a GPU of this job (or on any GPU when
# the job's GPUs are unknown) drains the node with a reason starting
# "aihpc-epilog:", so that the next job does not land on a busy GPU. Always
# exits 0 (a failing epilog drains the node without a reason).
set -uo pipefail
PATH="${PATH:+$PATH:}/usr/sbin:/usr/bin:/sbin:/bin"
node="${SLURMD_NODENAME:-$(hostname -s)}"
command -v nvidia-smi >/dev/null || exit 0
# SLURM_JOB_GPUS: the GPU indexes the job was given ("0,1"); empty: no GPUs.
gpus="${SLURM_JOB_GPUS:-${CUDA_VISIBLE_DEVICES:-}}"
[ -n "$gpus" ] || exit 0
# Give the job's processes a moment to exit after SIGKILL.
for _ in 1 2 3 4 5; do
  left="$(nvidia-smi --query-compute-apps=gpu_bus_id,pid,process_name --format=csv,noheader -i "$gpus" 2>/dev/null | sed '/^$/d')"
  [ -n "$left" ] || exit 0
  sleep 2
done
msg="aihpc-epilog: job ${SLURM_JOB_ID:-?} left GPU processes: $(printf '%s' "$left" | awk -F', ' '{ printf "%s(pid %s) ", $3, $2 }')"
logger -t aihpc-gpu-epilog "$msg"
scontrol update NodeName="$node" State=DRAIN Reason="${msg% }" || true
exit 0
