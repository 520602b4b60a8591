#!/usr/bin/env bash
# The workstation's keyless Google Cloud identity (X.509 workload identity
# federation; no service-account key exists): credential configuration,
# certificate configuration, client certificate and key, for root and system
# services in CERT_DIR, and for each research user in ~/.config/aihpc/gcp;
# every file 0600, owned by whoever uses it. Application Default Credentials and
# gcloud point at them: /etc/profile.d (login shells, so Slurm jobs),
# environment.d (user managers) and a system.conf.d drop-in (system services).
# The key arrives on stdin only. CERT_DIR, CREDENTIAL_CONFIG, CERT_PEM,
# USERS (names), USER_SUBDIR; the environment files PROFILE, ENVIRONMENT_D and
# SYSTEM_CONF (rendered in hybrid/identity/files.ts) at PROFILE_FILE,
# ENVIRONMENT_D_FILE and SYSTEM_CONF_FILE. The credential files name their own
# paths, under each user's home, which only the host knows: jq writes them.
: "${CERT_DIR:?}" "${USER_SUBDIR:?}" "${PROFILE_FILE:?}" "${ENVIRONMENT_D_FILE:?}" "${SYSTEM_CONF_FILE:?}"
record="$AIHPC_STATE/hybrid-credentials.dirs"
profile="$PROFILE_FILE"
envd="$ENVIRONMENT_D_FILE"
sysconf="$SYSTEM_CONF_FILE"
user_subdir="$USER_SUBDIR"

reload_manager() {
  # DefaultEnvironment= is read by the manager itself: re-execute it (running services stay).
  if aihpc_have_systemd; then systemctl daemon-reexec; fi
}

remove_set() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  aihpc_rm "$dir/credentials.json" "$dir/certificate_config.json" "$dir/client.crt" "$dir/client.key"
  rmdir "$dir" 2>/dev/null && aihpc_log "removed $dir" && aihpc_mark_changed
  # ~/.config/aihpc when nothing else lives there.
  rmdir "$(dirname "$dir")" 2>/dev/null || true
}

case "$AIHPC_ACTION" in
  apply)
    : "${CREDENTIAL_CONFIG:?}" "${CERT_PEM:?}" "${PROFILE:?}" "${ENVIRONMENT_D:?}" "${SYSTEM_CONF:?}"
    command -v jq >/dev/null || aihpc_die "jq is needed to write the credential configuration: keep workstation.base enabled (it installs jq) or install jq"
    key="$(cat)"
    case "$key" in
      *"PRIVATE KEY-----"*) ;;
      *) aihpc_die "no private key on stdin: the workstation's X.509 key comes from the gcp side (gcp.workstationIdentity)" ;;
    esac
    printf '%s' "$CREDENTIAL_CONFIG" | jq -e '.type == "external_account" and (.credential_source.certificate | type == "object")' >/dev/null ||
      aihpc_die "CREDENTIAL_CONFIG is not an X.509 external_account credential configuration"
    install -d -m 0755 "$AIHPC_STATE"
    : >"$record.new"
    write_set() { # DIR OWNER GROUP
      local dir="$1" owner="$2" group="$3" cred before
      [ -d "$dir" ] || { install -d -m 0700 -o "$owner" -g "$group" "$dir" && aihpc_mark_changed; }
      before="$(stat -c '%a %U:%G' "$dir")"
      # The credential configuration names its certificate configuration by path: this copy's.
      cred="$(printf '%s' "$CREDENTIAL_CONFIG" | jq --arg p "$dir/certificate_config.json" '.credential_source.certificate.certificate_config_location = $p')"
      aihpc_put "$dir/credentials.json" 0600 "$owner:$group" "$cred"
      aihpc_put "$dir/certificate_config.json" 0600 "$owner:$group" "$(jq -n --arg c "$dir/client.crt" --arg k "$dir/client.key" '{cert_configs: {workload: {cert_path: $c, key_path: $k}}}')"
      aihpc_put "$dir/client.crt" 0600 "$owner:$group" "$CERT_PEM"
      aihpc_put "$dir/client.key" 0600 "$owner:$group" "$key"
      # Private, whatever mode the folder had before this step.
      chmod 0700 "$dir"
      chown "$owner:$group" "$dir"
      [ "$before" = "700 $owner:$group" ] || aihpc_mark_changed
      echo "$dir" >>"$record.new"
    }
    write_set "$CERT_DIR" root root
    for u in ${USERS:-}; do
      if ! id -u "$u" >/dev/null 2>&1; then
        aihpc_warn "research user $u does not exist: no credentials for it"
        continue
      fi
      home="$(getent passwd "$u" | cut -d: -f6)"
      group="$(id -gn "$u")"
      [ -d "$home" ] || { aihpc_warn "home of $u ($home) is missing: no credentials for it"; continue; }
      for d in "$home/.config" "$home/.config/aihpc"; do
        [ -d "$d" ] || install -d -m 0700 -o "$u" -g "$group" "$d"
      done
      write_set "$home/$user_subdir" "$u" "$group"
    done
    # Sets written before for users no longer listed.
    if [ -f "$record" ]; then
      while read -r d; do
        [ -n "$d" ] && ! grep -qxF "$d" "$record.new" && remove_set "$d"
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
      while read -r d; do [ -n "$d" ] && remove_set "$d"; done <"$record"
      rm -f "$record"
    fi
    remove_set "$CERT_DIR"
    aihpc_rm "$profile" "$envd" "$sysconf"
    if aihpc_wrote; then reload_manager; fi
    ;;
esac
aihpc_done
