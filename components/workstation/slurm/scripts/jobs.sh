#!/usr/bin/env bash
# Job templates for users (single-GPU, multi-GPU, array, container) under
# JOBS_DIR. JOB_FILES: the bundled templates as a file set (lib.sh
# aihpc_sync_files: templates no longer shipped are removed, files others put
# there, such as the acceptance suite's template, are left alone).
: "${JOBS_DIR:?}"
case "$AIHPC_ACTION" in
  apply)
    : "${JOB_FILES:?}"
    aihpc_sync_files slurm-jobs "$JOBS_DIR" "$JOB_FILES"
    ;;
  delete)
    aihpc_sync_files_remove slurm-jobs "$JOBS_DIR"
    rmdir "$(dirname "$JOBS_DIR")" 2>/dev/null || true
    ;;
esac
aihpc_done
