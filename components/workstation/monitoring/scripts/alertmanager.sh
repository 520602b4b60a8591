#!/usr/bin/env bash
# Alertmanager on the controller, single instance (clustering off), loopback
# only, config checked with amtool first. ALERTMANAGER_YML and DROPIN are
# rendered by Pulumi (monitoring/index.ts, render.ts). With WEBHOOK_SECRET=1 the webhook's token or
# password (aihpc:alertWebhookSecret) arrives on stdin, never in the command,
# and is written 0600 for the user Alertmanager runs as; the config names the
# file (credentials_file / password_file), never the secret.
conf=/etc/prometheus/alertmanager.yml
secret=/etc/prometheus/alertmanager-webhook.secret
dropin=/etc/systemd/system/prometheus-alertmanager.service.d/aihpc.conf
case "$AIHPC_ACTION" in
  apply)
    : "${READY_URL:?}" "${DROPIN:?}" "${ALERTMANAGER_YML:?}"
    aihpc_require_systemd
    aihpc_apt_install alertmanager prometheus-alertmanager
    secret_changed=0
    if [ "${WEBHOOK_SECRET:-0}" = 1 ]; then
      value="$(cat)"
      [ -n "$value" ] || aihpc_die "no webhook secret on stdin: this step must be run by Pulumi, which sends aihpc:alertWebhookSecret"
      user="$(systemctl show -p User --value prometheus-alertmanager.service 2>/dev/null || true)"
      user="${user:-prometheus}"
      aihpc_put "$secret" 0600 "$user:$(id -gn "$user")" "$value"
      secret_changed="$AIHPC_WROTE"
      unset value
    else
      aihpc_rm "$secret"
    fi
    tmp="$(mktemp --suffix=.yml)"
    trap 'rm -f "$tmp"' EXIT
    printf '%s\n' "$ALERTMANAGER_YML" >"$tmp"
    amtool check-config "$tmp" >&2 || aihpc_die "amtool rejected the generated alertmanager.yml (output above): check workstation.monitoring.alertmanager"
    aihpc_put "$conf" 0644 root:root "$ALERTMANAGER_YML"
    reload="$AIHPC_WROTE"
    aihpc_put "$dropin" 0644 root:root "$DROPIN"
    restart="$AIHPC_WROTE"
    [ "$restart" = 1 ] && systemctl daemon-reload
    [ "$reload" = 1 ] && restart=1
    [ "$secret_changed" = 1 ] && restart=1
    aihpc_service prometheus-alertmanager.service "$restart"
    for _ in $(seq 1 20); do
      curl -fsS -o /dev/null "$READY_URL" && break
      sleep 1
    done
    curl -fsS -o /dev/null "$READY_URL" || aihpc_service_failed prometheus-alertmanager.service
    ;;
  delete)
    aihpc_service_off prometheus-alertmanager.service
    # A secret is not data to retain.
    aihpc_rm "$dropin" "$secret"
    rmdir "$(dirname "$dropin")" 2>/dev/null || true
    aihpc_have_systemd && systemctl daemon-reload
    if aihpc_retain monitoring; then
      aihpc_log "retain: keeping prometheus-alertmanager"
    else
      aihpc_apt_remove alertmanager
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
