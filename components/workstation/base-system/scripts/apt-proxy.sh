#!/usr/bin/env bash
# apt's HTTP proxy (workstation.aptProxy): one file of ours, removed when unset.
# Its credentials (aihpc:aptProxyCredentials, `user:password`) arrive on stdin
# when PROXY_AUTH=1, never in the command or the proxy URL, and go to apt's
# auth.conf.d (0600 root:root; `machine PROXY_MACHINE`, apt_auth.conf(5)).
conf=/etc/apt/apt.conf.d/80aihpc-proxy
auth=/etc/apt/auth.conf.d/80aihpc-proxy.conf
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
      aihpc_put "$conf" 0644 root:root "// Managed by aihpc (workstation.aptProxy).
Acquire::http::Proxy \"$APT_PROXY\";
Acquire::https::Proxy \"$APT_PROXY\";"
    else
      aihpc_rm "$conf"
    fi
    if [ -n "${APT_PROXY:-}" ] && [ "${PROXY_AUTH:-0}" = 1 ]; then
      : "${PROXY_MACHINE:?}"
      IFS= read -r cred || [ -n "${cred:-}" ] || aihpc_die "no proxy credentials on stdin: this step must be run by Pulumi, which sends aihpc:aptProxyCredentials"
      case "$cred" in
        *[[:space:]]* | :* | *:) aihpc_die "aihpc:aptProxyCredentials must be user:password without white space" ;;
        *:*) ;;
        *) aihpc_die "aihpc:aptProxyCredentials must be user:password without white space" ;;
      esac
      aihpc_put "$auth" 0600 root:root "# Managed by aihpc (aihpc:aptProxyCredentials for workstation.aptProxy).
machine $PROXY_MACHINE
login ${cred%%:*}
password ${cred#*:}"
      unset cred
    else
      aihpc_rm "$auth"
    fi
    ;;
  delete) aihpc_rm "$conf" "$auth" ;;
esac
aihpc_done
