#!/usr/bin/env bash
# Read-only facts probe: prints key=value lines that facts.ts parses.
# Changes nothing on the host, so it is safe to run on every apply.
set -euo pipefail

kv() { printf '%s=%s\n' "$1" "$2"; }

# shellcheck disable=SC1091
. /etc/os-release
kv os_id "${ID:-unknown}"
kv os_version_id "${VERSION_ID:-unknown}"
kv os_codename "${VERSION_CODENAME:-unknown}"
kv kernel "$(uname -r)"
kv arch "$(uname -m)"
kv hostname "$(hostname)"

# Runs as the connection's user (the only step that does): every other step
# needs root, through `sudo -n` when this user is not root. -n: a sudo that
# wants a password fails here at once (never waits for one).
kv user "$(id -un)"
if [ "$(id -u)" = 0 ]; then
  kv sudo root
elif ! command -v sudo >/dev/null; then
  kv sudo absent
elif sudo_err="$(sudo -n true 2>&1 </dev/null)"; then
  kv sudo nopasswd
else
  kv sudo refused
  kv sudo_error "$(printf '%s' "$sudo_err" | head -n1)"
fi

if command -v lscpu >/dev/null; then
  lscpu_field() { LC_ALL=C lscpu | awk -F: -v k="$1" '$1 == k { gsub(/^[ \t]+/, "", $2); print $2; exit }'; }
  kv cpus "$(lscpu_field 'CPU(s)')"
  kv sockets "$(lscpu_field 'Socket(s)')"
  kv cores_per_socket "$(lscpu_field 'Core(s) per socket')"
  kv threads_per_core "$(lscpu_field 'Thread(s) per core')"
else
  kv cpus "$(nproc)"
fi
kv memory_mb "$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)"

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then kv cgroup v2; else kv cgroup v1; fi
if [ -d /run/systemd/system ]; then
  kv systemd "$(systemctl is-system-running 2>/dev/null || true)"
else
  kv systemd none
fi

sb=unknown
for f in /sys/firmware/efi/efivars/SecureBoot-*; do
  [ -e "$f" ] || continue
  # 4 bytes of attributes, then one byte: 1 = enabled.
  if [ "$(od -An -t u1 -j 4 -N 1 "$f" 2>/dev/null | tr -d ' ')" = 1 ]; then sb=enabled; else sb=disabled; fi
done
[ "$sb" = unknown ] && [ ! -d /sys/firmware/efi ] && sb=legacy-bios
kv secure_boot "$sb"

if command -v lspci >/dev/null; then
  LC_ALL=C lspci -mm -d 10de: 2>/dev/null | awk '$0 ~ /VGA|3D|Display/ { print "pci_gpu=" $0 }' || true
else
  kv pci_gpu_probe unavailable
fi
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=index,name,uuid,memory.total,driver_version,pci.bus_id --format=csv,noheader,nounits 2>/dev/null \
    | sed 's/^/nvidia_gpu=/' || kv nvidia_smi failed
else
  kv nvidia_smi absent
fi

# Accounts with ids in the range research users and groups take (1000-60000),
# for preflight's check that the configured ids are free or already theirs.
getent passwd | awk -F: '$3 >= 1000 && $3 <= 60000 { print "account_user=" $1 ":" $3 }' || true
getent group | awk -F: '$3 >= 1000 && $3 <= 60000 { print "account_group=" $1 ":" $3 }' || true
