#!/usr/bin/env bash
# The monitoring ports' host firewall: nftables (Debian's package, only the
# `nft` tool is used; Debian's nftables.service is left as it is), a table of
# its own loaded by a unit of its own. RULES and UNIT are rendered by Pulumi
# (monitoring/render.ts); this step checks the rules with `nft -c`, installs
# them and reloads the table only when something changed.
rules=/etc/aihpc/firewall-monitoring.nft
unit=/etc/systemd/system/aihpc-firewall-monitoring.service
table=aihpc_monitoring
unit_name=aihpc-firewall-monitoring.service
# systemctl, again when the manager dropped the call: other steps on the host may
# re-execute or reload systemd at the same moment (ENOTCONN on its private socket).
sysctl_retry() {
  local i
  for i in 1 2 3 4 5; do
    systemctl "$@" && return 0
    sleep "$i"
  done
  return 1
}
case "$AIHPC_ACTION" in
  apply)
    : "${RULES:?}" "${UNIT:?}"
    aihpc_require_systemd
    aihpc_apt_install firewall nftables
    tmp="$(mktemp --suffix=.nft)"
    trap 'rm -f "$tmp"' EXIT
    printf '%s\n' "$RULES" >"$tmp"
    nft -c -f "$tmp" >&2 || aihpc_die "nft rejected the monitoring firewall rules (output above): check workstation.monitoring.firewall.adminNetworks and the hosts' addresses"
    install -d -m 0755 /etc/aihpc
    aihpc_put "$rules" 0644 root:root "$RULES"
    changed="$AIHPC_WROTE"
    aihpc_put "$unit" 0644 root:root "$UNIT"
    if aihpc_wrote; then sysctl_retry daemon-reload && changed=1; fi
    nft list table inet "$table" >/dev/null 2>&1 || changed=1
    # A change is loaded in place (`nft -f` replaces the table in one transaction: the ports are
    # never open in between); the unit loads it at every boot.
    if [ "$changed" = 1 ] && systemctl is-active --quiet "$unit_name"; then
      sysctl_retry reload "$unit_name" || aihpc_service_failed "$unit_name"
      aihpc_log "reloaded the nftables table $table"
      aihpc_mark_changed
    fi
    if ! systemctl is-enabled --quiet "$unit_name" 2>/dev/null; then
      sysctl_retry enable --quiet "$unit_name" || aihpc_service_failed "$unit_name"
      aihpc_mark_changed
    fi
    if ! systemctl is-active --quiet "$unit_name"; then
      sysctl_retry start "$unit_name" || aihpc_service_failed "$unit_name"
      aihpc_log "started $unit_name"
      aihpc_mark_changed
    fi
    nft list table inet "$table" >/dev/null 2>&1 || aihpc_service_failed "$unit_name"
    ;;
  delete)
    if aihpc_retain monitoring; then
      # The services stay: so does what guards them.
      aihpc_log "retain: keeping the monitoring firewall"
      aihpc_done
      exit 0
    fi
    aihpc_service_off aihpc-firewall-monitoring.service
    if nft list table inet "$table" >/dev/null 2>&1; then
      nft delete table inet "$table"
      aihpc_log "removed the nftables table $table"
      aihpc_mark_changed
    fi
    aihpc_rm "$unit" "$rules"
    aihpc_have_systemd && sysctl_retry daemon-reload
    aihpc_apt_remove firewall
    ;;
esac
aihpc_done
