#!/usr/bin/env bash
# Environment modules for the CUDA toolkits: Debian's lmod, one Lua module
# file per version under MODULES_DIR (on lmod's default MODULEPATH), and
# `default` pointing at the configured default. MODULE_FILES: the file set
# rendered in nvidia/files.ts (cudaModuleFiles); files of versions no longer
# configured are removed. Only files this step wrote are ever removed
# (lib.sh aihpc_sync_files): an administrator's own module files in the same
# folder stay, on apply and on teardown.
: "${MODULES_DIR:?}"
dir="$MODULES_DIR"
case "$AIHPC_ACTION" in
  apply)
    : "${MODULE_FILES:?}" "${DEFAULT_VERSION:?}"
    aihpc_apt_install lmod lmod
    aihpc_sync_files cuda-modules "$dir" "$MODULE_FILES"
    if [ "$(readlink "$dir/default" 2>/dev/null || true)" != "$DEFAULT_VERSION.lua" ]; then
      ln -sfn "$DEFAULT_VERSION.lua" "$dir/default"
      aihpc_log "default CUDA module: cuda/$DEFAULT_VERSION"
      aihpc_mark_changed
    fi
    ;;
  delete)
    if [ -L "$dir/default" ]; then aihpc_rm "$dir/default"; fi
    aihpc_sync_files_remove cuda-modules "$dir"
    if [ ! -d "$dir" ] && [ "$AIHPC_WROTE" = 1 ]; then aihpc_log "removed $dir"; fi
    rmdir /etc/lmod/modules /etc/lmod 2>/dev/null || true
    if aihpc_retain nvidia; then aihpc_log "retain: keeping lmod"; else aihpc_apt_remove lmod; fi
    ;;
esac
aihpc_done
