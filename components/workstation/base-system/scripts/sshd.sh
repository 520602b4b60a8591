#!/usr/bin/env bash
# Optional sshd hardening (workstation.base.sshd): the drop-in rendered in
# TypeScript (base-system/sshd.ts) arrives as $SSHD_CONF. Before sshd reloads,
# `sshd -t` must accept it, sshd must read it (the effective values are the
# drop-in's), and the connection's user ($CONNECT_USER) must still be able to
# log in with a key; otherwise the previous file is put back and nothing reloads.
dropin=/etc/ssh/sshd_config.d/00-aihpc.conf
sshd=/usr/sbin/sshd

# Reload a running sshd (new connections read the new settings); returns 1
# when it could not. A state other than active/inactive (a package install's
# daemon-reload, a reload in progress) is waited out for a few seconds.
sshd_reload() {
  local state="" i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    state="$(systemctl is-active ssh.service 2>/dev/null || true)"
    case "$state" in
      active)
        if systemctl reload ssh.service; then
          aihpc_log "reloaded ssh.service"
          return 0
        fi
        ;;
      inactive | failed)
        aihpc_log "ssh.service is $state: sshd reads the settings when it starts"
        return 0
        ;;
    esac
    sleep "$i"
  done
  aihpc_warn "could not reload ssh.service (state: ${state:-unknown})"
  return 1
}

# Effective sshd settings (`sshd -T`, lowercase keys) for a connection of USER,
# prohibit-password by that name (sshd prints its old alias without-password).
sshd_effective() {
  local addr="${SSH_CONNECTION:-}" out
  addr="${addr%% *}"
  if [ -n "$1" ]; then
    out="$("$sshd" -T -C "user=$1,host=$(hostname),addr=${addr:-127.0.0.1}" 2>&1)" || {
      printf '%s' "$out"
      return 1
    }
  else
    out="$("$sshd" -T 2>&1)" || {
      printf '%s' "$out"
      return 1
    }
  fi
  printf '%s\n' "${out//permitrootlogin without-password/permitrootlogin prohibit-password}"
}

# Why the drop-in now in place must not be kept (empty: keep it).
sshd_problem() {
  local eff key value methods
  if ! eff="$("$sshd" -t 2>&1)"; then
    printf 'sshd -t refused the configuration: %s' "$eff"
    return 0
  fi
  eff="$(sshd_effective "")" || {
    printf 'sshd -T failed: %s' "$eff"
    return 0
  }
  while read -r key value; do
    case "$key" in '' | '#'*) continue ;; esac
    key="${key,,}" value="${value,,}"
    if ! grep -qx "$key $value" <<<"$eff"; then
      printf 'sshd does not use %s (it says: %s): another file in /etc/ssh/sshd_config.d/ sorts first, or sshd_config has no Include of /etc/ssh/sshd_config.d/*.conf; fix that, or remove workstation.base.sshd' \
        "$key $value" "$(grep "^$key " <<<"$eff" || echo unset)"
      return 0
    fi
  done <<<"$SSHD_CONF"
  [ -n "$CONNECT_USER" ] || return 0
  eff="$(sshd_effective "$CONNECT_USER")" || {
    printf 'sshd -T -C user=%s failed: %s' "$CONNECT_USER" "$eff"
    return 0
  }
  if ! grep -qx 'pubkeyauthentication yes' <<<"$eff"; then
    printf 'it would lock out %s: sshd allows no key logins for that user (PubkeyAuthentication)' "$CONNECT_USER"
    return 0
  fi
  if [ "$CONNECT_USER" = root ] && ! grep -qxE 'permitrootlogin (yes|prohibit-password)' <<<"$eff"; then
    printf 'it would lock out root, the user the stack connects as (%s): connect as an admin user with passwordless sudo first' "$(grep '^permitrootlogin ' <<<"$eff")"
    return 0
  fi
  # AuthenticationMethods: "any", or one alternative that is a key alone.
  methods="$(awk '$1 == "authenticationmethods" { $1 = ""; print }' <<<"$eff")"
  case " $methods " in
    *' any '* | *' publickey '* | '  ') ;;
    *) printf 'it would lock out %s: sshd requires %s, and the stack logs in with a key alone' "$CONNECT_USER" "AuthenticationMethods$methods" ;;
  esac
}

case "$AIHPC_ACTION" in
  apply)
    : "${SSHD_CONF:?}" "${CONNECT_USER?}"
    [ -x "$sshd" ] || aihpc_die "workstation.base.sshd is set but $(hostname) has no OpenSSH server ($sshd): install openssh-server or remove workstation.base.sshd"
    backup=""
    if [ -f "$dropin" ]; then
      backup="$(mktemp)"
      cp -p "$dropin" "$backup"
    fi
    aihpc_put "$dropin" 0644 root:root "$SSHD_CONF"
    if aihpc_wrote; then
      why="$(sshd_problem)"
      [ -n "$why" ] || sshd_reload || why="sshd could not be reloaded: check \`systemctl status ssh\`"
      if [ -n "$why" ]; then
        if [ -n "$backup" ]; then cp -p "$backup" "$dropin"; else rm -f "$dropin"; fi
        rm -f "$backup"
        aihpc_die "workstation.base.sshd on $(hostname): not applied (the previous file is back): $why"
      fi
    fi
    rm -f "$backup"
    ;;
  delete)
    aihpc_rm "$dropin"
    if aihpc_wrote && [ -x "$sshd" ]; then
      "$sshd" -t || aihpc_die "sshd -t refuses the configuration without $dropin: fix /etc/ssh/sshd_config, then reload sshd (systemctl reload ssh)"
      sshd_reload || aihpc_die "removed $dropin, but sshd still runs with it: run \`systemctl reload ssh\` on $(hostname)"
    fi
    ;;
esac
aihpc_done
