#!/usr/bin/env bash
# CPU frequency governor, kept across reboots by a oneshot unit (UNIT_TEXT,
# rendered in base-system/files.ts governorUnit, at UNIT_FILE). Skipped
# cleanly where the host has no cpufreq (VMs, containers) or lacks the governor.
: "${UNIT_FILE:?}"
unit="$UNIT_FILE"
remove_unit() {
  if [ -f "$unit" ]; then
    systemctl disable --now --quiet "$(basename "$unit")" 2>/dev/null || true
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
      : "${UNIT_TEXT:?}"
      aihpc_put "$unit" 0644 root:root "$UNIT_TEXT"
      if [ "$AIHPC_WROTE" = 1 ]; then systemctl daemon-reload; fi
      aihpc_service "$(basename "$unit")" "$AIHPC_WROTE"
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
