#!/usr/bin/env bash
# aihpc-burst (a Vertex AI custom job of the training image, --dry-run prints
# its spec) and the Slurm template that runs the same job locally.
# BURST_PROGRAM, TRAIN_TEMPLATE (texts).
prog=/usr/local/bin/aihpc-burst
dest=/usr/local/share/aihpc/hybrid
case "$AIHPC_ACTION" in
  apply)
    : "${BURST_PROGRAM:?}" "${TRAIN_TEMPLATE:?}"
    aihpc_put "$prog" 0755 root:root "$BURST_PROGRAM"
    aihpc_put "$dest/train.sbatch" 0644 root:root "$TRAIN_TEMPLATE"
    ;;
  delete)
    aihpc_rm "$prog" "$dest/train.sbatch"
    rmdir "$dest" 2>/dev/null || true
    rmdir /usr/local/share/aihpc 2>/dev/null || true
    ;;
esac
aihpc_done
