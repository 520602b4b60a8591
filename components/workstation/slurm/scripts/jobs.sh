#!/usr/bin/env bash
# Job templates for users (single-GPU, multi-GPU, array, container) under
# /usr/local/share/aihpc/jobs. JOB_FILES: NAME=BASE64 words.
dest=/usr/local/share/aihpc/jobs
case "$AIHPC_ACTION" in
  apply)
    : "${JOB_FILES:?}"
    wanted=()
    for entry in $JOB_FILES; do
      name="${entry%%=*}"
      wanted+=("$name")
      aihpc_put "$dest/$name" 0644 root:root "$(printf '%s' "${entry#*=}" | base64 -d)"
    done
    for f in "$dest"/*; do
      [ -e "$f" ] || continue
      printf '%s\n' "${wanted[@]}" | grep -qx "$(basename "$f")" || aihpc_rm "$f"
    done
    ;;
  delete)
    if [ -d "$dest" ]; then
      rm -rf "$dest"
      rmdir --ignore-fail-on-non-empty /usr/local/share/aihpc 2>/dev/null || true
      aihpc_log "removed $dest"
      aihpc_mark_changed
    fi
    ;;
esac
aihpc_done
