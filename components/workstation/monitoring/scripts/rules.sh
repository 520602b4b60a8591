#!/usr/bin/env bash
# Prometheus alert rules, validated with `promtool check rules` before they
# replace the running ones.
rules=/etc/prometheus/rules/aihpc.rules.yml
case "$AIHPC_ACTION" in
  apply)
    : "${RULES:?}"
    command -v promtool >/dev/null || aihpc_die "promtool is missing: the prometheus package step must run first"
    tmp="$(mktemp --suffix=.yml)"
    trap 'rm -f "$tmp"' EXIT
    printf '%s\n' "$RULES" >"$tmp"
    promtool check rules "$tmp" >&2 || aihpc_die "promtool rejected the alert rules (output above): fix monitoring/templates/rules/aihpc.rules.yml"
    aihpc_put "$rules" 0644 root:root "$RULES"
    if [ "$AIHPC_WROTE" = 1 ] && systemctl is-active --quiet prometheus.service; then
      systemctl reload prometheus.service && aihpc_log "reloaded prometheus"
    fi
    ;;
  delete)
    aihpc_rm "$rules"
    if [ "$AIHPC_WROTE" = 1 ] && systemctl is-active --quiet prometheus.service; then systemctl reload prometheus.service || true; fi
    ;;
esac
aihpc_done
