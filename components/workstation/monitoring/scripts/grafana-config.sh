#!/usr/bin/env bash
# Grafana's provisioning (Prometheus data source, node and Slurm dashboards),
# port, and admin password. The password arrives on stdin and is kept in a
# 0600 root file that systemd reads (GF_SECURITY_ADMIN_PASSWORD).
prov=/etc/grafana/provisioning
dash=/var/lib/grafana/dashboards/aihpc
envfile=/etc/grafana/aihpc.env
dropin=/etc/systemd/system/grafana-server.service.d/aihpc.conf
case "$AIHPC_ACTION" in
  apply)
    : "${PORT:?}" "${DATASOURCE:?}" "${DASHBOARD_PROVIDER:?}" "${DASHBOARDS:?}"
    getent group grafana >/dev/null || aihpc_die "grafana is not installed: the grafana step must succeed first"
    IFS= read -r password || true
    [ -n "$password" ] || aihpc_die "no Grafana admin password on stdin; this step must be run by Pulumi, which sends it"
    restart=0
    aihpc_put "$envfile" 0600 root:root "GF_SECURITY_ADMIN_PASSWORD=$password"
    [ "$AIHPC_WROTE" = 1 ] && restart=1
    aihpc_put "$dropin" 0644 root:root "# Managed by aihpc (workstation.monitoring.grafana)
[Service]
EnvironmentFile=$envfile
Environment=GF_SERVER_HTTP_PORT=$PORT"
    if [ "$AIHPC_WROTE" = 1 ]; then restart=1 && systemctl daemon-reload; fi
    aihpc_put "$prov/datasources/aihpc.yaml" 0640 root:grafana "$DATASOURCE"
    [ "$AIHPC_WROTE" = 1 ] && restart=1
    aihpc_put "$prov/dashboards/aihpc.yaml" 0640 root:grafana "$DASHBOARD_PROVIDER"
    [ "$AIHPC_WROTE" = 1 ] && restart=1
    # DASHBOARDS: NAME=BASE64 words; Grafana re-reads dashboard files itself.
    for entry in $DASHBOARDS; do
      aihpc_put "$dash/${entry%%=*}" 0644 root:root "$(printf '%s' "${entry#*=}" | base64 -d)"
    done
    aihpc_service grafana-server.service "$restart"
    ;;
  delete)
    aihpc_service_off grafana-server.service
    aihpc_rm "$envfile" "$dropin" "$prov/datasources/aihpc.yaml" "$prov/dashboards/aihpc.yaml"
    rm -rf "$dash"
    aihpc_have_systemd && systemctl daemon-reload
    ;;
esac
aihpc_done
