#!/usr/bin/env bash
# Install the node health check (HealthCheckProgram in slurm.conf) at
# PROGRAM_FILE, its settings (HEALTH_CONF, rendered in slurm/conf.ts
# nodeHealthConf from the node's GPUs) at CONF_FILE, and the GPU epilog
# (Epilog= in slurm.conf) at EPILOG_FILE on a compute host.
: "${PROGRAM_FILE:?}" "${EPILOG_FILE:?}" "${CONF_FILE:?}"
case "$AIHPC_ACTION" in
  apply)
    : "${HEALTH_SCRIPT:?}" "${EPILOG_SCRIPT:?}" "${HEALTH_CONF:?}"
    aihpc_put "$PROGRAM_FILE" 0755 root:root "$HEALTH_SCRIPT"
    aihpc_put "$EPILOG_FILE" 0755 root:root "$EPILOG_SCRIPT"
    aihpc_put "$CONF_FILE" 0644 root:root "$HEALTH_CONF"
    ;;
  delete) aihpc_rm "$PROGRAM_FILE" "$CONF_FILE" "$EPILOG_FILE" ;;
esac
aihpc_done
