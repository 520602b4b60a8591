#!/usr/bin/env bash
# Google Cloud credentials on the workstation (X.509 workload identity
# federation; no service-account key exists anywhere):
# - the service identity, for root and system services (the data sync timer)
#   in CERT_DIR: credential configuration (impersonating the workstation's
#   service account), certificate configuration, client certificate and key
#   (the key on stdin only), every file 0600 root;
# - each research user acts as themselves: the user-certs step made their key
#   and certificate in ~/.config/aihpc/gcp; this step adds their credential
#   configuration (USER_CREDENTIAL_CONFIG, no impersonation), 0600, theirs.
# Application Default Credentials and gcloud point at them: /etc/profile.d
# (login shells, so Slurm jobs), environment.d (user managers) and a
# system.conf.d drop-in (system services): PROFILE, ENVIRONMENT_D and
# SYSTEM_CONF (rendered in hybrid/identity/files.ts) at PROFILE_FILE,
# ENVIRONMENT_D_FILE and SYSTEM_CONF_FILE.
# CERT_DIR, CREDENTIAL_CONFIG, CERT_PEM, USER_CREDENTIAL_CONFIG, USERS, USER_SUBDIR.
: "${CERT_DIR:?}" "${USER_SUBDIR:?}" "${PROFILE_FILE:?}" "${ENVIRONMENT_D_FILE:?}" "${SYSTEM_CONF_FILE:?}"
record="$AIHPC_STATE/hybrid-credentials.users"
old_record="$AIHPC_STATE/hybrid-credentials.dirs"
profile="$PROFILE_FILE"
envd="$ENVIRONMENT_D_FILE"
sysconf="$SYSTEM_CONF_FILE"
user_subdir="$USER_SUBDIR"

reload_manager() {
  # DefaultEnvironment= is re-read on daemon-reload (systemd 252, checked in a Debian 12
  # container); a re-execution would cut other steps' systemctl calls (ENOTCONN).
  if aihpc_have_systemd; then systemctl daemon-reload; fi
}

remove_service_set() {
  [ -d "$CERT_DIR" ] || return 0
  aihpc_rm "$CERT_DIR/credentials.json" "$CERT_DIR/certificate_config.json" "$CERT_DIR/client.crt" "$CERT_DIR/client.key"
  rmdir "$CERT_DIR" 2>/dev/null && aihpc_log "removed $CERT_DIR" && aihpc_mark_changed
  true
}

case "$AIHPC_ACTION" in
  apply)
    : "${CREDENTIAL_CONFIG:?}" "${CERT_PEM:?}" "${USER_CREDENTIAL_CONFIG:?}" "${PROFILE:?}" "${ENVIRONMENT_D:?}" "${SYSTEM_CONF:?}"
    command -v jq >/dev/null || aihpc_die "jq is needed to write the credential configuration: keep workstation.base enabled (it installs jq) or install jq"
    key="$(cat)"
    case "$key" in
      *"PRIVATE KEY-----"*) ;;
      *) aihpc_die "no private key on stdin: the workstation's X.509 key comes from the gcp side (gcp.workstationIdentity)" ;;
    esac
    printf '%s' "$CREDENTIAL_CONFIG" | jq -e '.type == "external_account" and (.credential_source.certificate | type == "object")' >/dev/null ||
      aihpc_die "CREDENTIAL_CONFIG is not an X.509 external_account credential configuration"
    printf '%s' "$USER_CREDENTIAL_CONFIG" | jq -e '.type == "external_account" and (has("service_account_impersonation_url") | not)' >/dev/null ||
      aihpc_die "USER_CREDENTIAL_CONFIG is not a research user's credential configuration (X.509, acting as the user)"
    install -d -m 0755 "$AIHPC_STATE"
    # The service identity: root's, for system services.
    dir="$CERT_DIR"
    [ -d "$dir" ] || { install -d -m 0700 -o root -g root "$dir" && aihpc_mark_changed; }
    before="$(stat -c '%a %U:%G' "$dir")"
    # The credential configuration names its certificate configuration by path: this copy's.
    cred="$(printf '%s' "$CREDENTIAL_CONFIG" | jq --arg p "$dir/certificate_config.json" '.credential_source.certificate.certificate_config_location = $p')"
    aihpc_put "$dir/credentials.json" 0600 root:root "$cred"
    aihpc_put "$dir/certificate_config.json" 0600 root:root "$(jq -n --arg c "$dir/client.crt" --arg k "$dir/client.key" '{cert_configs: {workload: {cert_path: $c, key_path: $k}}}')"
    aihpc_put "$dir/client.crt" 0600 root:root "$CERT_PEM"
    aihpc_put "$dir/client.key" 0600 root:root "$key"
    chmod 0700 "$dir"
    chown root:root "$dir"
    [ "$before" = "700 root:root" ] || aihpc_mark_changed
    # An older release kept copies of the service identity in users' folders: the user-certs
    # step has replaced their key and certificate; its list of folders goes.
    [ -f "$old_record" ] && rm -f "$old_record" && aihpc_log "dropped $old_record (users have certificates of their own now)"

    # Research users: their own credential configuration, beside the certificate the user-certs step made.
    : >"$record.new"
    for u in ${USERS:-}; do
      id -u "$u" >/dev/null 2>&1 || continue
      home="$(getent passwd "$u" | cut -d: -f6)"
      d="$home/$user_subdir"
      if [ ! -f "$d/certificate_config.json" ]; then
        aihpc_warn "$u has no certificate on this host (see the user-certs step): no credential configuration for it"
        continue
      fi
      cred="$(printf '%s' "$USER_CREDENTIAL_CONFIG" | jq --arg p "$d/certificate_config.json" '.credential_source.certificate.certificate_config_location = $p')"
      aihpc_put "$d/credentials.json" 0600 "$u:$(id -gn "$u")" "$cred"
      echo "$d/credentials.json" >>"$record.new"
    done
    if [ -f "$record" ]; then
      while read -r f; do
        [ -n "$f" ] && ! grep -qxF "$f" "$record.new" && aihpc_rm "$f"
      done <"$record"
    fi
    mv -f "$record.new" "$record"

    aihpc_put "$profile" 0644 root:root "$PROFILE"
    aihpc_put "$envd" 0644 root:root "$ENVIRONMENT_D"
    aihpc_put "$sysconf" 0644 root:root "$SYSTEM_CONF"
    if aihpc_wrote; then reload_manager; fi
    ;;
  delete)
    if [ -f "$record" ]; then
      while read -r f; do [ -n "$f" ] && aihpc_rm "$f"; done <"$record"
      rm -f "$record"
    fi
    rm -f "$old_record"
    remove_service_set
    aihpc_rm "$profile" "$envd" "$sysconf"
    if aihpc_wrote; then reload_manager; fi
    ;;
esac
aihpc_done
