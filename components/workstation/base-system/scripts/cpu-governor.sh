#!/usr/bin/env bash
# CPU frequency governor, kept across reboots by a oneshot unit. Skipped
# cleanly where the host has no cpufreq (VMs, containers) or lacks the governor.
unit=/etc/systemd/system/aihpc-cpu-governor.service
remove_unit() {
  if [ -f "$unit" ]; then
    systemctl disable --now --quiet aihpc-cpu-governor.service 2>/dev/null || true
    aihpc_rm "$unit"
    systemctl daemon-reload
  fi
}
case "$AIHPC_ACTION" in
  apply)
    : "${GOVERNOR:?}"
    aihpc_require_systemd
    cpufreq=/sys/devices/system/cpu/cpu0/cpufreq
    if [ "$GOVERNOR" = unchanged ]; then
      remove_unit
    elif [ ! -d "$cpufreq" ]; then
      aihpc_log "skip: no $cpufreq on this host (VM or container); governor left to the host"
      remove_unit
    elif ! grep -qw "$GOVERNOR" "$cpufreq/scaling_available_governors" 2>/dev/null; then
      aihpc_warn "governor '$GOVERNOR' not offered by this host (available: $(cat "$cpufreq/scaling_available_governors" 2>/dev/null || echo none)); skipped"
      remove_unit
    else
      install -d -m 0755 "$AIHPC_STATE"
      [ -f "$AIHPC_STATE/cpu-governor.saved" ] || cat "$cpufreq/scaling_governor" >"$AIHPC_STATE/cpu-governor.saved"
      aihpc_put "$unit" 0644 root:root "# Managed by aihpc (workstation.base.cpuGovernor)
[Unit]
Description=aihpc: CPU frequency governor $GOVERNOR

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'for f in /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; do echo $GOVERNOR > \$f; done'

[Install]
WantedBy=multi-user.target"
      if [ "$AIHPC_WROTE" = 1 ]; then systemctl daemon-reload; fi
      aihpc_service aihpc-cpu-governor.service "$AIHPC_WROTE"
    fi
    ;;
  delete)
    aihpc_have_systemd && remove_unit
    saved="$AIHPC_STATE/cpu-governor.saved"
    if [ -f "$saved" ]; then
      for f in /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; do
        if [ -w "$f" ]; then cat "$saved" >"$f" 2>/dev/null || true; fi
      done
      aihpc_log "restored governor $(cat "$saved")"
      rm -f "$saved"
      aihpc_mark_changed
    fi
    ;;
esac
aihpc_done
