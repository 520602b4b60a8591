#!/usr/bin/env bash
# Research users' own X.509 identities on this host. The host keeps a user CA
# (CA_DIR, key 0600 root, made here with openssl: it never leaves the host and
# never passes through Pulumi). Each user in USERS gets, in ~/.config/aihpc/gcp,
# a private key made here for them (0600, theirs; reused while it is valid), a
# certificate for SUBJECT_PREFIX<user> signed by the CA (re-issued when missing,
# for another key or CA, or within the last fifth of VALIDITY_DAYS), and the
# certificate configuration that points at both. The CA key reaches openssl by
# path, never in a command line.
# Revocation: Google's trust store reads no CRL. When a user who had a
# certificate here is no longer listed, their files are removed and the CA is
# rotated (new key and certificate), every remaining user is re-issued, and the
# new CA certificate replaces the old as the pool's trust anchor.
# Output: the CA certificate between AIHPC-USER-CA markers (Pulumi reads it).
# CA_DIR, USERS, SUBJECT_PREFIX, CA_NAME, VALIDITY_DAYS.
: "${CA_DIR:?}"
record="$AIHPC_STATE/hybrid-user-certs.users"
user_subdir=.config/aihpc/gcp

new_ca() {
  local tmp
  tmp="$(mktemp -d "$CA_DIR/.new.XXXXXX")"
  (
    umask 077
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
      -keyout "$tmp/ca.key" -out "$tmp/ca.crt" -days 3650 -subj "/O=aihpc/CN=$CA_NAME" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" 2>/dev/null
  ) || aihpc_die "openssl could not make the user CA in $CA_DIR"
  chmod 0600 "$tmp/ca.key"
  chmod 0644 "$tmp/ca.crt"
  mv -f "$tmp/ca.key" "$CA_DIR/ca.key"
  mv -f "$tmp/ca.crt" "$CA_DIR/ca.crt"
  rmdir "$tmp"
  aihpc_mark_changed
}

# Whether DIR holds a certificate for CN, of this CA, for the key there, valid beyond the renewal window.
cert_ok() {
  local dir="$1" cn="$2" renew
  [ -f "$dir/client.crt" ] && [ -f "$dir/client.key" ] || return 1
  openssl verify -CAfile "$CA_DIR/ca.crt" "$dir/client.crt" >/dev/null 2>&1 || return 1
  [ "$(openssl x509 -in "$dir/client.crt" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')" = "$cn" ] || return 1
  [ "$(openssl x509 -in "$dir/client.crt" -noout -pubkey)" = "$(openssl pkey -in "$dir/client.key" -pubout 2>/dev/null)" ] || return 1
  renew=$((VALIDITY_DAYS * 86400 / 5))
  openssl x509 -in "$dir/client.crt" -noout -checkend "$renew" >/dev/null
}

issue() { # USER DIR CN OURS (1: the key there is one this step made)
  local u="$1" dir="$2" cn="$3" ours="$4" group tmp
  group="$(id -gn "$u")"
  # A key this step did not make (an older release copied the workstation's own key to every user) is replaced.
  if [ "$ours" != 1 ] || ! openssl pkey -in "$dir/client.key" -noout 2>/dev/null; then
    tmp="$(mktemp "$dir/.key.XXXXXX")"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp" 2>/dev/null || aihpc_die "openssl could not make a key for $u"
    chmod 0600 "$tmp"
    chown "$u:$group" "$tmp"
    mv -f "$tmp" "$dir/client.key"
    aihpc_log "made a private key for $u"
  fi
  tmp="$(mktemp "$dir/.crt.XXXXXX")"
  openssl req -new -key "$dir/client.key" -subj "/O=aihpc/CN=$cn" 2>/dev/null |
    openssl x509 -req -CA "$CA_DIR/ca.crt" -CAkey "$CA_DIR/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
      -days "$VALIDITY_DAYS" -sha256 -out "$tmp" \
      -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid") 2>/dev/null ||
    aihpc_die "openssl could not sign the certificate of $u"
  chmod 0644 "$tmp"
  chown "$u:$group" "$tmp"
  mv -f "$tmp" "$dir/client.crt"
  aihpc_log "issued $cn ($(openssl x509 -in "$dir/client.crt" -noout -serial))"
  aihpc_mark_changed
}

remove_user_set() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  aihpc_rm "$dir/credentials.json" "$dir/certificate_config.json" "$dir/client.crt" "$dir/client.key"
  rmdir "$dir" 2>/dev/null && aihpc_log "removed $dir" && aihpc_mark_changed
  rmdir "$(dirname "$dir")" 2>/dev/null || true
}

print_ca() {
  echo "AIHPC-USER-CA-BEGIN"
  cat "$CA_DIR/ca.crt"
  echo "AIHPC-USER-CA-END"
}

case "$AIHPC_ACTION" in
  apply)
    : "${SUBJECT_PREFIX:?}" "${CA_NAME:?}" "${VALIDITY_DAYS:?}"
    command -v openssl >/dev/null || aihpc_die "openssl is needed for the research users' certificates: install it (Debian: openssl)"
    command -v jq >/dev/null || aihpc_die "jq is needed to write the certificate configuration: keep workstation.base enabled (it installs jq) or install jq"
    install -d -m 0755 "$AIHPC_STATE"
    [ -d "$CA_DIR" ] || { install -d -m 0700 -o root -g root "$CA_DIR" && aihpc_mark_changed; }
    chmod 0700 "$CA_DIR"
    : >"$record.new"
    for u in ${USERS:-}; do
      if ! id -u "$u" >/dev/null 2>&1; then
        aihpc_warn "research user $u does not exist: no certificate for it"
        continue
      fi
      home="$(getent passwd "$u" | cut -d: -f6)"
      [ -d "$home" ] || { aihpc_warn "home of $u ($home) is missing: no certificate for it"; continue; }
      echo "$u $home/$user_subdir" >>"$record.new"
    done
    # Users issued here before and no longer listed: their files go, and so does the CA that signed them.
    rotate=0
    if [ -f "$record" ]; then
      while read -r u d <&3; do
        [ -n "$u" ] || continue
        if ! grep -qxF "$u $d" "$record.new"; then
          remove_user_set "$d"
          aihpc_log "revoked $SUBJECT_PREFIX$u: rotating this host's user CA"
          rotate=1
        fi
      done 3<"$record"
    fi
    if [ "$rotate" = 1 ] || [ ! -s "$CA_DIR/ca.key" ] || ! openssl x509 -in "$CA_DIR/ca.crt" -noout -checkend 31536000 >/dev/null 2>&1; then
      new_ca
      aihpc_log "made a new user CA: $(openssl x509 -in "$CA_DIR/ca.crt" -noout -fingerprint -sha256)"
    fi
    while read -r u d <&3; do
      group="$(id -gn "$u")"
      for p in "$(dirname "$(dirname "$d")")" "$(dirname "$d")" "$d"; do
        [ -d "$p" ] || { install -d -m 0700 -o "$u" -g "$group" "$p" && aihpc_mark_changed; }
      done
      before="$(stat -c '%a %U:%G' "$d")"
      chmod 0700 "$d"
      chown "$u:$group" "$d"
      [ "$before" = "700 $u:$group" ] || aihpc_mark_changed
      cn="$SUBJECT_PREFIX$u"
      ours=0
      [ -f "$record" ] && grep -qxF "$u $d" "$record" && ours=1
      if [ "$ours" != 1 ] || ! cert_ok "$d" "$cn"; then issue "$u" "$d" "$cn" "$ours"; fi
      for f in client.key client.crt; do
        [ "$(stat -c '%a %U:%G' "$d/$f")" = "600 $u:$group" ] || { chmod 0600 "$d/$f" && chown "$u:$group" "$d/$f" && aihpc_mark_changed; }
      done
      aihpc_put "$d/certificate_config.json" 0600 "$u:$group" "$(jq -n --arg c "$d/client.crt" --arg k "$d/client.key" '{cert_configs: {workload: {cert_path: $c, key_path: $k}}}')"
    done 3<"$record.new"
    mv -f "$record.new" "$record"
    print_ca
    ;;
  delete)
    if [ -f "$record" ]; then
      while read -r _ d; do [ -n "$d" ] && remove_user_set "$d"; done <"$record"
      rm -f "$record"
    fi
    if [ -d "$CA_DIR" ]; then
      rm -rf "$CA_DIR"
      aihpc_log "removed $CA_DIR"
      aihpc_mark_changed
    fi
    ;;
esac
aihpc_done
