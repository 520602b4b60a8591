#!/usr/bin/env bash
# Kernel and limits tuning for ML work: swappiness, open files, locked memory
# (CUDA pinned memory, RDMA). The three files are rendered in TypeScript
# (base-system/files.ts tuningFiles): SYSCTL_CONF at SYSCTL_FILE, LIMITS_CONF at
# LIMITS_FILE, SYSTEMD_CONF at SYSTEMD_FILE. Files apply at boot; values that
# the kernel refuses now (read-only /proc/sys in a container) are reported,
# not fatal.
: "${SYSCTL_FILE:?}" "${LIMITS_FILE:?}" "${SYSTEMD_FILE:?}"
case "$AIHPC_ACTION" in
  apply)
    : "${SYSCTL_CONF:?}" "${LIMITS_CONF:?}" "${SYSTEMD_CONF:?}"
    aihpc_put "$SYSCTL_FILE" 0644 root:root "$SYSCTL_CONF"
    if [ "$AIHPC_WROTE" = 1 ]; then
      while IFS='=' read -r key value; do
        key="$(echo "$key" | tr -d ' ')"
        value="$(echo "$value" | tr -d ' ')"
        case "$key" in '' | '#'*) continue ;; esac
        if [ "$(sysctl -n "$key" 2>/dev/null || true)" != "$value" ]; then
          sysctl -q -w "$key=$value" >/dev/null 2>&1 ||
            aihpc_warn "$key=$value not applied now (read-only /proc/sys, e.g. in a container); it applies at the next boot"
        fi
      done <"$SYSCTL_FILE"
    fi
    aihpc_put "$LIMITS_FILE" 0644 root:root "$LIMITS_CONF"
    aihpc_put "$SYSTEMD_FILE" 0644 root:root "$SYSTEMD_CONF"
    # systemd 252 re-reads system.conf.d on daemon-reload (checked in a Debian 12
    # container: DefaultLimitNOFILE and DefaultEnvironment apply to new units);
    # re-executing it would cut other steps' systemctl calls (ENOTCONN).
    if [ "$AIHPC_WROTE" = 1 ] && aihpc_have_systemd; then systemctl daemon-reload; fi
    ;;
  delete)
    aihpc_rm "$SYSCTL_FILE" "$LIMITS_FILE"
    aihpc_rm "$SYSTEMD_FILE"
    if [ "$AIHPC_WROTE" = 1 ] && aihpc_have_systemd; then systemctl daemon-reload; fi
    # Debian has no system.conf.d: aihpc_put made it; gone once empty.
    rmdir "$(dirname "$SYSTEMD_FILE")" 2>/dev/null || true
    sysctl -q --system >/dev/null 2>&1 || true
    ;;
esac
aihpc_done
