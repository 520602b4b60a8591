#!/usr/bin/env bash
# /etc/aihpc/hybrid.env: the workstation's view of the cloud side (project,
# image digest, buckets, local data paths, Tensorboard, experiment, Vertex
# settings), read by Slurm job templates, aihpc-burst and the data-sync units.
# Not secret. ENV_FILE (the file's text, rendered in hybrid/data/index.ts) at
# ENV_FILE_PATH.
: "${ENV_FILE_PATH:?}"
file="$ENV_FILE_PATH"
case "$AIHPC_ACTION" in
  apply)
    : "${ENV_FILE:?}"
    aihpc_put "$file" 0644 root:root "$ENV_FILE"
    ;;
  delete)
    aihpc_rm "$file"
    rmdir "$(dirname "$file")" 2>/dev/null || true
    ;;
esac
aihpc_done
