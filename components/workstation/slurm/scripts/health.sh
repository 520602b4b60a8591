#!/usr/bin/env bash
# Install the node health check (HealthCheckProgram in slurm.conf), its
# settings, and the GPU epilog (Epilog= in slurm.conf) on a compute host.
prog=/usr/local/sbin/aihpc-node-health
epilog=/usr/local/sbin/aihpc-gpu-epilog
conf=/etc/aihpc/node-health.conf
case "$AIHPC_ACTION" in
  apply)
    : "${HEALTH_SCRIPT:?}" "${NODE_NAME:?}" "${EXPECTED_GPUS:?}" "${EPILOG_SCRIPT:?}"
    aihpc_put "$prog" 0755 root:root "$HEALTH_SCRIPT"
    aihpc_put "$epilog" 0755 root:root "$EPILOG_SCRIPT"
    aihpc_put "$conf" 0644 root:root "# Managed by aihpc: read by $prog
NODE_NAME=$NODE_NAME
EXPECTED_GPUS=$EXPECTED_GPUS
GPU_SOURCE=${GPU_SOURCE:-none}
GPU_FILES=\"${GPU_FILES:-}\"
MIN_FREE_PERCENT=${MIN_FREE_PERCENT:-5}
MAX_GPU_TEMP=${MAX_GPU_TEMP:-90}"
    ;;
  delete) aihpc_rm "$prog" "$conf" "$epilog" ;;
esac
aihpc_done
