#!/usr/bin/env bash
# Debootstraps the Debian 12 base rootfs for testbed hosts once, into a cache
# outside the repo. Rebuilds only when the stamp (include list + config
# revision) changes. Built in a temp dir and renamed, so a crash never leaves
# a half-built cache behind.
set -euo pipefail

SUITE=bookworm
INCLUDE="systemd,systemd-sysv,dbus,openssh-server,sudo,ca-certificates,curl,gnupg,iproute2"
# Bump when the base configuration below changes.
CONFIG_REV=1
PROXY_URL="${AIHPC_TESTBED_PROXY_URL:-http://10.213.0.1:3128}"

CACHE="${AIHPC_TESTBED_CACHE:-/var/cache/aihpc-testbed/rootfs-bookworm}"
STAMP_NAME=".aihpc-testbed-stamp"
STAMP="suite=$SUITE include=$INCLUDE config=$CONFIG_REV proxy=$PROXY_URL"

if [[ "$(id -u)" -ne 0 ]]; then
  echo "build-rootfs: must run as root" >&2
  exit 1
fi

parent="$(dirname "$CACHE")"
mkdir -p "$parent"

# Serialise concurrent builds (parallel test runs).
exec 9>"$CACHE.lock"
flock 9

# A killed debootstrap leaves proc/sys (maybe a /dev bind) mounted inside its
# target: unmount first and never let rm cross into another filesystem.
remove_tree() {
  local dir="$1" m
  [[ -e "$dir" ]] || return 0
  while read -r m; do
    umount -l "$m" || true
  done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

# Leftovers of a crashed earlier build.
for d in "$CACHE".tmp.* "$CACHE".old.*; do
  remove_tree "$d"
done
rm -f "$CACHE".tmp.*.log

if [[ -f "$CACHE/$STAMP_NAME" && "$(cat "$CACHE/$STAMP_NAME")" == "$STAMP" ]]; then
  echo "build-rootfs: cache up to date at $CACHE"
  exit 0
fi

# The Debian mirror this machine's own apt uses (first entry for $SUITE).
detect_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk -v s="$SUITE" '$1=="deb" { i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1)==s) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    # deb822: paragraphs separated by blank lines.
    awk -v s="$SUITE" 'BEGIN{RS=""; FS="\n"} {
      uri=""; ok=0
      for (j=1; j<=NF; j++) {
        if ($j ~ /^URIs:/) { split($j, a, /[ \t]+/); uri=a[2] }
        if ($j ~ /^Suites:/) { n=split($j, b, /[ \t]+/); for (k=2; k<=n; k++) if (b[k]==s) ok=1 }
      }
      if (ok && uri != "") { print uri; exit }
    }' "$f"
  done
}
MIRROR="${AIHPC_TESTBED_MIRROR:-$(detect_mirror | head -n1)}"
if [[ -z "$MIRROR" ]]; then
  echo "build-rootfs: no $SUITE mirror found in /etc/apt/sources.list*; set AIHPC_TESTBED_MIRROR" >&2
  exit 1
fi

# Replacing the cache under mounted overlays would pull the floor from running hosts.
if [[ -e "$CACHE" ]] && grep -q "lowerdir=$CACHE" /proc/mounts; then
  echo "build-rootfs: $CACHE is stale but in use by overlay mounts; run cleanup first" >&2
  exit 1
fi

tmp="$CACHE.tmp.$$"
trap 'remove_tree "$tmp"; rm -f "$tmp.log"' EXIT
mkdir -p "$tmp"

echo "build-rootfs: debootstrap $SUITE (this takes a few minutes)"
# Default variant (not minbase): provisioning expects a normal Debian install (procps, kmod, ...).
debootstrap --include="$INCLUDE" "$SUITE" "$tmp" "$MIRROR" >"$tmp.log" 2>&1 || {
  tail -n 40 "$tmp.log" >&2
  exit 1
}
rm -f "$tmp.log"

# Containers have no route out: apt goes through the host's tinyproxy.
cat >"$tmp/etc/apt/apt.conf.d/01aihpc-testbed-proxy" <<CONF
Acquire::http::Proxy "$PROXY_URL";
CONF

# Same Debian suites as this machine (updates, security) where it lists them.
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  cp /etc/apt/sources.list.d/debian.sources "$tmp/etc/apt/sources.list.d/debian.sources"
  rm -f "$tmp/etc/apt/sources.list"
fi

# Background apt runs would hold the dpkg lock during tests.
for t in apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "$tmp/etc/systemd/system/$t"
done

mkdir -p "$tmp/etc/ssh/sshd_config.d"
cat >"$tmp/etc/ssh/sshd_config.d/10-aihpc-testbed.conf" <<'CONF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
CONF

# Per-host identity is written at boot time; the base must not carry one.
rm -f "$tmp"/etc/ssh/ssh_host_*
: >"$tmp/etc/machine-id"
rm -f "$tmp/var/lib/dbus/machine-id"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$tmp/etc/hosts"
echo testbed >"$tmp/etc/hostname"
# No DNS server is reachable; names come from /etc/hosts, apt goes via the proxy.
printf '# testbed: no DNS\n' >"$tmp/etc/resolv.conf"
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages

echo "$STAMP" >"$tmp/$STAMP_NAME"

if [[ -e "$CACHE" ]]; then
  mv "$CACHE" "$CACHE.old.$$"
fi
mv "$tmp" "$CACHE"
trap - EXIT
remove_tree "$CACHE.old.$$"
echo "build-rootfs: built $CACHE"
