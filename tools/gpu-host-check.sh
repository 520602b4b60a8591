#!/usr/bin/env bash
# Run the GPU parts that need a real GPU, as shipped, on a machine with an
# NVIDIA driver (no Slurm, systemd or package registry needed), and write what
# they printed to OUT (default ./gpu-host-check). docs/gpu.md records a run on
# the H200. Steps run with lib.sh in front, exactly as stepCommand() sends them.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out="${OUT:-./gpu-host-check}"
mkdir -p "$out"
ws=components/workstation
step() { # step DIR FILE: lib.sh + the step's script (shebang dropped), as components/steps builds it
  cat components/steps/scripts/lib.sh
  sed '1{/^#!/d}' "$ws/$1/scripts/$2"
}
section() { printf '\n===== %s\n' "$*"; }
{
  section "nvidia-smi"
  nvidia-smi
  section "facts probe (host/scripts/facts.sh)"
  bash "$ws/host/scripts/facts.sh" | tee "$out/facts.txt"

  section "driver verification (nvidia/scripts/verify.sh): EXPECTED_GPUS=1 EXPECTED_MODEL='NVIDIA H200' PERSISTENCE=true"
  step nvidia verify.sh | AIHPC_ACTION=apply AIHPC_STEP_NAME=verify EXPECTED_GPUS=1 EXPECTED_MODEL="NVIDIA H200" PERSISTENCE=true DRIVER=x bash -s | tee "$out/verify.txt"
  echo "exit=${PIPESTATUS[1]}"
  section "driver verification, expecting 2 GPUs (must fail with a message)"
  step nvidia verify.sh | AIHPC_ACTION=apply AIHPC_STEP_NAME=verify EXPECTED_GPUS=2 PERSISTENCE=true DRIVER=x bash -s
  echo "exit=${PIPESTATUS[1]}"
  section "reboot check (nvidia/scripts/reboot.sh, ALLOW_REBOOT=false)"
  step nvidia reboot.sh | AIHPC_ACTION=apply AIHPC_STEP_NAME=reboot ALLOW_REBOOT=false DRIVER=x bash -s
  echo "exit=${PIPESTATUS[1]}"

  section "GPU metrics collector (monitoring/scripts/gpu-metrics.sh)"
  TEXTFILE_DIR="$out" bash "$ws/monitoring/scripts/gpu-metrics.sh"
  echo "exit=$?"
  grep -v '^#' "$out/aihpc_gpu.prom"
  section "nvidia-smi, same moment, for comparison"
  nvidia-smi --query-gpu=index,uuid,temperature.gpu,utilization.gpu,memory.used,memory.free,power.draw,clocks.sm,clocks.mem,ecc.errors.uncorrected.volatile.total --format=csv

  conf="$(mktemp)"
  printf 'NODE_NAME=%s\nEXPECTED_GPUS=1\nGPU_SOURCE=nvidia\nGPU_FILES=""\nMIN_FREE_PERCENT=5\nMAX_GPU_TEMP=90\n' "$(hostname -s)" >"$conf"
  section "GPU health check (slurm/scripts/node-health.sh, AIHPC_HEALTH_DRY_RUN=1; munge is not installed here)"
  AIHPC_HEALTH_DRY_RUN=1 AIHPC_HEALTH_CONF="$conf" bash "$ws/slurm/scripts/node-health.sh"
  echo "exit=$?"
  section "GPU health check with MAX_GPU_TEMP=20 (must report the temperature)"
  sed -i 's/^MAX_GPU_TEMP=.*/MAX_GPU_TEMP=20/' "$conf"
  AIHPC_HEALTH_DRY_RUN=1 AIHPC_HEALTH_CONF="$conf" bash "$ws/slurm/scripts/node-health.sh"
  echo "exit=$?"
  section "GPU health check expecting 2 GPUs (must report the count)"
  sed -i 's/^EXPECTED_GPUS=.*/EXPECTED_GPUS=2/; s/^MAX_GPU_TEMP=.*/MAX_GPU_TEMP=90/' "$conf"
  AIHPC_HEALTH_DRY_RUN=1 AIHPC_HEALTH_CONF="$conf" bash "$ws/slurm/scripts/node-health.sh"
  echo "exit=$?"
  rm -f "$conf"

  section "GPU epilog (slurm/scripts/gpu-epilog.sh) with a process left on GPU 0; scontrol is a stand-in that prints its arguments"
  fake="$(mktemp -d)"
  printf '#!/bin/sh\necho "scontrol $*"\n' >"$fake/scontrol"
  printf '#!/bin/sh\necho "logger $*"\n' >"$fake/logger"
  chmod +x "$fake/scontrol" "$fake/logger"
  if python3 -c 'import torch' 2>/dev/null; then
    python3 -c 'import torch, time; x = torch.ones(1 << 20, device="cuda"); time.sleep(60)' &
    holder=$!
    for _ in $(seq 1 30); do nvidia-smi --query-compute-apps=pid --format=csv,noheader | grep -q . && break; sleep 1; done
    PATH="$fake:$PATH" SLURM_JOB_ID=42 SLURM_JOB_GPUS=0 SLURMD_NODENAME=h200 bash "$ws/slurm/scripts/gpu-epilog.sh"
    echo "exit=$?"
    kill "$holder"
    wait "$holder" 2>/dev/null
  else
    echo "no torch here: skipped the leftover-process case"
  fi
  section "GPU epilog, GPU 0 free again (must print nothing)"
  PATH="$fake:$PATH" SLURM_JOB_ID=43 SLURM_JOB_GPUS=0 SLURMD_NODENAME=h200 bash "$ws/slurm/scripts/gpu-epilog.sh"
  echo "exit=$?"
  rm -rf "$fake"
} 2>&1 | tee "$out/gpu-host-check.log"
