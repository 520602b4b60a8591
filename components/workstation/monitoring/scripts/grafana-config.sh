#!/usr/bin/env bash
# Grafana's provisioning (Prometheus data source, node and Slurm dashboards),
# its address, port and access (DROPIN: anonymous access and sign-up off;
# rendered by Pulumi, monitoring/render.ts), and the admin password: from the
# stack (a secret stack output), on stdin, kept in a 0600 root file that
# systemd reads (GF_SECURITY_ADMIN_PASSWORD). Grafana reads that variable only
# when it creates its database, so a changed password is also set with
# `grafana cli admin reset-admin-password --password-from-stdin`.
prov=/etc/grafana/provisioning
dash=/var/lib/grafana/dashboards/aihpc
envfile=/etc/grafana/aihpc.env
dropin=/etc/systemd/system/grafana-server.service.d/aihpc.conf
case "$AIHPC_ACTION" in
  apply)
    : "${DROPIN:?}" "${DATASOURCE:?}" "${DASHBOARD_PROVIDER:?}" "${DASHBOARDS:?}"
    getent group grafana >/dev/null || aihpc_die "grafana is not installed: the grafana step must succeed first"
    IFS= read -r password || true
    [ -n "$password" ] || aihpc_die "no Grafana admin password on stdin; this step must be run by Pulumi, which sends it"
    restart=0
    aihpc_put "$envfile" 0600 root:root "GF_SECURITY_ADMIN_PASSWORD=$password"
    password_changed="$AIHPC_WROTE"
    [ "$AIHPC_WROTE" = 1 ] && restart=1
    aihpc_put "$dropin" 0644 root:root "$DROPIN"
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
    if [ "$password_changed" = 1 ] && [ -s /var/lib/grafana/grafana.db ]; then
      printf '%s\n' "$password" | grafana cli --homepath /usr/share/grafana --config /etc/grafana/grafana.ini admin reset-admin-password --password-from-stdin >/dev/null ||
        aihpc_die "grafana cli could not set the admin password from the stack"
      aihpc_log "set Grafana's admin password from the stack"
    fi
    unset password
    ;;
  delete)
    aihpc_service_off grafana-server.service
    aihpc_rm "$envfile" "$dropin" "$prov/datasources/aihpc.yaml" "$prov/dashboards/aihpc.yaml"
    rm -rf "$dash"
    aihpc_have_systemd && systemctl daemon-reload
    ;;
esac
aihpc_done
