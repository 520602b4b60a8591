#!/usr/bin/env bash
# apt's HTTP proxy (workstation.aptProxy): one file of ours (PROXY_CONF at
# CONF_FILE), removed when unset. With PROXY_AUTH=1 its credentials' file
# (aihpc:aptProxyCredentials as apt_auth.conf(5) reads it) arrives on stdin,
# never in the command or the proxy URL, and goes to AUTH_FILE (0600
# root:root). Both are rendered in base-system/files.ts.
: "${CONF_FILE:?}" "${AUTH_FILE:?}"
conf="$CONF_FILE"
auth="$AUTH_FILE"
case "$AIHPC_ACTION" in
  apply)
    if [ -n "${APT_PROXY:-}" ]; then
      # The schema hands only a re-serialised http(s) URL; refuse anything else
      # here too, since the value is written inside quotes into apt.conf.
      case "$APT_PROXY" in
        http://* | https://*) ;;
        *) aihpc_die "workstation.aptProxy: expected an http:// or https:// URL, got '$APT_PROXY'" ;;
      esac
      case "$APT_PROXY" in
        *[!A-Za-z0-9._~:/@%+=,[\]-]*) aihpc_die "workstation.aptProxy: refusing a value with characters no URL needs (quotes, ';', braces, spaces): it would end the quoted value in $conf" ;;
      esac
      # Fail here, in seconds and before anything is written, when the proxy
      # does not answer (apt-get update would only warn, and the first
      # install would fail minutes later). Host and port only: never the
      # credentials a proxy URL may carry.
      hp="${APT_PROXY#*://}"
      hp="${hp%%/*}"
      hp="${hp##*@}"
      case "$hp" in
        \[*\]:*) host="${hp%]:*}" host="${host#[}" port="${hp##*]:}" ;;
        \[*\]) host="${hp#[}" host="${host%]}" port="" ;;
        *:*) host="${hp%:*}" port="${hp##*:}" ;;
        *) host="$hp" port="" ;;
      esac
      if [ -z "$port" ]; then
        case "$APT_PROXY" in https:*) port=443 ;; *) port=80 ;; esac
      fi
      at="$host:$port"
      case "$host" in *:*) at="[$host]:$port" ;; esac
      # shellcheck disable=SC2016 # $1 and $2 are the probe's arguments
      timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' aihpc-probe "$host" "$port" 2>/dev/null ||
        aihpc_die "workstation.aptProxy: nothing answers at $at from $(hostname) (5 s): start the proxy or correct the setting, then re-run"
      : "${PROXY_CONF:?}"
      aihpc_put "$conf" 0644 root:root "$PROXY_CONF"
    else
      aihpc_rm "$conf"
    fi
    if [ -n "${APT_PROXY:-}" ] && [ "${PROXY_AUTH:-0}" = 1 ]; then
      cred="$(cat)"
      case "$cred" in
        "# Managed by aihpc"*) ;;
        *) aihpc_die "no proxy credentials on stdin: this step must be run by Pulumi, which sends aihpc:aptProxyCredentials" ;;
      esac
      aihpc_put "$auth" 0600 root:root "$cred"
      unset cred
    else
      aihpc_rm "$auth"
    fi
    ;;
  delete) aihpc_rm "$conf" "$auth" ;;
esac
aihpc_done
