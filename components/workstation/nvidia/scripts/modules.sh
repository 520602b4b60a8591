#!/usr/bin/env bash
# Environment modules for the CUDA toolkits: Debian's lmod, one Lua module
# file per version under /etc/lmod/modules/cuda (on lmod's default MODULEPATH),
# and `default` pointing at the configured default. MODULE_FILES: NAME=BASE64
# words; files of versions no longer configured are removed. Only files that
# carry this step's header are ever removed: an administrator's own module
# files in the same folder stay, on apply and on teardown.
dir=/etc/lmod/modules/cuda
case "$AIHPC_ACTION" in
  apply)
    : "${MODULE_FILES:?}" "${DEFAULT_VERSION:?}"
    aihpc_apt_install lmod lmod
    wanted=()
    for entry in $MODULE_FILES; do
      name="${entry%%=*}"
      wanted+=("$name")
      aihpc_put "$dir/$name" 0644 root:root "$(printf '%s' "${entry#*=}" | base64 -d)"
    done
    for f in "$dir"/*.lua; do
      if [ ! -f "$f" ] || ! grep -q '^-- Managed by aihpc' "$f"; then continue; fi
      printf '%s\n' "${wanted[@]}" | grep -qx "$(basename "$f")" || aihpc_rm "$f"
    done
    if [ "$(readlink "$dir/default" 2>/dev/null || true)" != "$DEFAULT_VERSION.lua" ]; then
      ln -sfn "$DEFAULT_VERSION.lua" "$dir/default"
      aihpc_log "default CUDA module: cuda/$DEFAULT_VERSION"
      aihpc_mark_changed
    fi
    ;;
  delete)
    if [ -d "$dir" ]; then
      for f in "$dir"/*.lua; do
        if [ -f "$f" ] && grep -q '^-- Managed by aihpc' "$f"; then aihpc_rm "$f"; fi
      done
      if [ -L "$dir/default" ] && [ ! -e "$dir/default" ]; then aihpc_rm "$dir/default"; fi
      rmdir "$dir" 2>/dev/null && aihpc_log "removed $dir" && aihpc_mark_changed
      rmdir /etc/lmod/modules /etc/lmod 2>/dev/null || true
    fi
    if aihpc_retain nvidia; then aihpc_log "retain: keeping lmod"; else aihpc_apt_remove lmod; fi
    ;;
esac
aihpc_done
