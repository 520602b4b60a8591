#!/usr/bin/env bash
# apt's HTTP proxy (workstation.aptProxy): one file of ours, removed when unset.
conf=/etc/apt/apt.conf.d/80aihpc-proxy
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
      aihpc_put "$conf" 0644 root:root "// Managed by aihpc (workstation.aptProxy).
Acquire::http::Proxy \"$APT_PROXY\";
Acquire::https::Proxy \"$APT_PROXY\";"
    else
      aihpc_rm "$conf"
    fi
    ;;
  delete) aihpc_rm "$conf" ;;
esac
aihpc_done
