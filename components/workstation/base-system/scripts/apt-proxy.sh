#!/usr/bin/env bash
# apt's HTTP proxy (workstation.aptProxy): one file of ours, removed when unset.
conf=/etc/apt/apt.conf.d/80aihpc-proxy
case "$AIHPC_ACTION" in
  apply)
    if [ -n "${APT_PROXY:-}" ]; then
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
