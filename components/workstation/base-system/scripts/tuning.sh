#!/usr/bin/env bash
# Kernel and limits tuning for ML work: swappiness, open files, locked memory
# (CUDA pinned memory, RDMA). Files apply at boot; values that the kernel
# refuses now (read-only /proc/sys in a container) are reported, not fatal.
sysctl_conf=/etc/sysctl.d/90-aihpc.conf
limits_conf=/etc/security/limits.d/90-aihpc.conf
systemd_conf=/etc/systemd/system.conf.d/90-aihpc.conf
case "$AIHPC_ACTION" in
  apply)
    : "${SWAPPINESS:?}" "${NOFILE:?}" "${MEMLOCK:?}"
    nr_open=1048576
    [ "$NOFILE" -gt "$nr_open" ] && nr_open="$NOFILE"
    aihpc_put "$sysctl_conf" 0644 root:root "# Managed by aihpc (workstation.base)
vm.swappiness = $SWAPPINESS
fs.nr_open = $nr_open
fs.inotify.max_user_watches = 524288
vm.max_map_count = 262144"
    if [ "$AIHPC_WROTE" = 1 ]; then
      while IFS='=' read -r key value; do
        key="$(echo "$key" | tr -d ' ')"
        value="$(echo "$value" | tr -d ' ')"
        case "$key" in '' | '#'*) continue ;; esac
        if [ "$(sysctl -n "$key" 2>/dev/null || true)" != "$value" ]; then
          sysctl -q -w "$key=$value" >/dev/null 2>&1 ||
            aihpc_warn "$key=$value not applied now (read-only /proc/sys, e.g. in a container); it applies at the next boot"
        fi
      done <"$sysctl_conf"
    fi
    if [ "$MEMLOCK" = unlimited ]; then ml=unlimited sd=infinity; else ml="$MEMLOCK" sd="$((MEMLOCK * 1024))"; fi
    aihpc_put "$limits_conf" 0644 root:root "# Managed by aihpc (workstation.base)
* soft memlock $ml
* hard memlock $ml
* soft nofile $NOFILE
* hard nofile $NOFILE
root soft nofile $NOFILE
root hard nofile $NOFILE"
    aihpc_put "$systemd_conf" 0644 root:root "# Managed by aihpc (workstation.base): limits for services
[Manager]
DefaultLimitNOFILE=$NOFILE
DefaultLimitMEMLOCK=$sd"
    if [ "$AIHPC_WROTE" = 1 ] && aihpc_have_systemd; then systemctl daemon-reexec; fi
    ;;
  delete)
    aihpc_rm "$sysctl_conf" "$limits_conf"
    aihpc_rm "$systemd_conf"
    if [ "$AIHPC_WROTE" = 1 ] && aihpc_have_systemd; then systemctl daemon-reexec; fi
    # Debian has no system.conf.d: aihpc_put made it; gone once empty.
    rmdir "$(dirname "$systemd_conf")" 2>/dev/null || true
    sysctl -q --system >/dev/null 2>&1 || true
    ;;
esac
aihpc_done
