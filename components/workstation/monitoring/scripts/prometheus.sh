#!/usr/bin/env bash
# Prometheus on the controller: package, flags (port, retention) and
# prometheus.yml (scrape targets), checked with promtool before it is used.
# PROMETHEUS_YML and DROPIN are rendered by Pulumi (monitoring/index.ts,
# render.ts); READY_URL is where this host reaches Prometheus.
conf=/etc/prometheus/prometheus.yml
dropin=/etc/systemd/system/prometheus.service.d/aihpc.conf
wait_ready() {
  for _ in $(seq 1 30); do
    curl -fsS -o /dev/null "$READY_URL" && return 0
    sleep 1
  done
  aihpc_service_failed prometheus.service
}
case "$AIHPC_ACTION" in
  apply)
    : "${READY_URL:?}" "${DROPIN:?}" "${PROMETHEUS_YML:?}"
    aihpc_require_systemd
    aihpc_apt_install prometheus prometheus
    install -d -m 0755 /etc/prometheus/rules
    tmp="$(mktemp --suffix=.yml)"
    trap 'rm -f "$tmp"' EXIT
    printf '%s\n' "$PROMETHEUS_YML" >"$tmp"
    promtool check config "$tmp" >&2 || aihpc_die "promtool rejected the generated prometheus.yml (output above): this is a bug in aihpc's monitoring component"
    aihpc_put "$conf" 0644 root:root "$PROMETHEUS_YML"
    reload="$AIHPC_WROTE"
    aihpc_put "$dropin" 0644 root:root "$DROPIN"
    restart="$AIHPC_WROTE"
    [ "$restart" = 1 ] && systemctl daemon-reload
    aihpc_service prometheus.service "$restart"
    if [ "$reload" = 1 ] && [ "$restart" = 0 ]; then systemctl reload prometheus.service && aihpc_log "reloaded prometheus"; fi
    wait_ready
    ;;
  delete)
    aihpc_service_off prometheus.service
    aihpc_rm "$dropin"
    rmdir "$(dirname "$dropin")" 2>/dev/null || true
    aihpc_have_systemd && systemctl daemon-reload
    if aihpc_retain monitoring; then
      aihpc_log "retain: keeping prometheus, its config and its data"
    else
      aihpc_apt_remove prometheus
      aihpc_rm "$conf"
      # The folders (rules/ is ours, /etc/prometheus the packages'), once
      # empty: whichever of prometheus and alertmanager goes last removes them.
      for d in /etc/prometheus/rules /etc/prometheus; do
        if [ -d "$d" ] && rmdir "$d" 2>/dev/null; then
          aihpc_log "removed $d"
          aihpc_mark_changed
        fi
      done
    fi
    ;;
esac
aihpc_done
