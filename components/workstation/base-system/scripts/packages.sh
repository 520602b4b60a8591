#!/usr/bin/env bash
# Base packages (chrony and the tools every workstation needs, plus
# workstation.base.packages). Teardown purges only what this step installed.
case "$AIHPC_ACTION" in
  apply)
    : "${PACKAGES:?}"
    read -r -a pkgs <<<"$PACKAGES"
    aihpc_apt_install base "${pkgs[@]}"
    ;;
  delete)
    if aihpc_retain base; then
      aihpc_log "retain: keeping the base packages"
    else
      aihpc_apt_remove base
    fi
    ;;
esac
aihpc_done
