#!/usr/bin/env bash
# The controller's end of the cloud partition's tunnel (gcp.cloudNodes.tunnel):
# /etc/wireguard/<INTERFACE>.conf (0600; rendered by Pulumi, components/hybrid/
# cloud-nodes/wireguard.ts: no private key in it, PostUp reads the host's own
# key file) and wg-quick@<INTERFACE>, restarted when the configuration
# changed. The controller dials out to the gateway and keeps the path open
# with keepalives: nothing listens for it on the workstation's network.
# Apply: INTERFACE, WG_CONF (text). Delete: INTERFACE.
: "${INTERFACE:?}"
conf="/etc/wireguard/$INTERFACE.conf"
unit="wg-quick@$INTERFACE.service"
case "$AIHPC_ACTION" in
  apply)
    : "${WG_CONF:?}"
    aihpc_require_systemd
    command -v wg-quick >/dev/null || aihpc_die "wg-quick is missing: the tunnel key step (wireguard-tools) comes first"
    [ -s "/etc/wireguard/$INTERFACE.key" ] || aihpc_die "/etc/wireguard/$INTERFACE.key is missing: the tunnel key step comes first"
    aihpc_put "$conf" 0600 root:root "$WG_CONF"
    aihpc_service "$unit" "$AIHPC_WROTE"
    wg show "$INTERFACE" >/dev/null 2>&1 || aihpc_service_failed "$unit"
    # Informational: the gateway may still be booting (the keepalives retry until it answers).
    hs="$(wg show "$INTERFACE" latest-handshakes | awk 'NR == 1 { print $2 }')"
    if [ "${hs:-0}" = 0 ]; then
      aihpc_log "tunnel $INTERFACE is up; no handshake with the gateway yet"
    else
      aihpc_log "tunnel $INTERFACE is up; last handshake with the gateway $(($(date +%s) - hs)) s ago"
    fi
    ;;
  delete)
    # An instance of wg-quick@.service: stopped and disabled by its own name (aihpc_service_off looks for a unit file).
    if aihpc_have_systemd; then
      if systemctl is-active --quiet "$unit"; then
        systemctl stop "$unit"
        aihpc_log "stopped $unit"
        aihpc_mark_changed
      fi
      if systemctl is-enabled --quiet "$unit" 2>/dev/null; then
        systemctl disable --quiet "$unit"
        aihpc_mark_changed
      fi
    fi
    aihpc_rm "$conf"
    ;;
esac
aihpc_done
