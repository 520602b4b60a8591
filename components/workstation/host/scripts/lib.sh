# shellcheck shell=bash
# aihpc step library: prepended to every provisioning step (see host/script.ts
# `stepCommand`). Not run on its own. Every step:
#   - is idempotent: it compares before it changes, and a second run prints
#     `aihpc: unchanged` as its last line (`aihpc: changed` otherwise);
#   - waits for the dpkg lock and serialises its own apt work per host;
#   - fails with `aihpc: error: ...` saying what to do.
set -euo pipefail
umask 022
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

AIHPC_CHANGED=0
AIHPC_STATE=/var/lib/aihpc
AIHPC_STEP_NAME="${AIHPC_STEP_NAME:-step}"

aihpc_log() { printf 'aihpc: %s\n' "$*"; }
aihpc_warn() { printf 'aihpc: warning: %s\n' "$*" >&2; }
aihpc_die() {
  printf 'aihpc: error: %s\n' "$*" >&2
  exit 1
}
aihpc_mark_changed() { AIHPC_CHANGED=1; }
aihpc_done() {
  # Teardown leaves no empty state folders behind (under the package lock,
  # which is what writes there).
  if [ "${AIHPC_ACTION:-}" = delete ] && [ -d "$AIHPC_STATE" ]; then
    aihpc_lock
    find "$AIHPC_STATE" -depth -type d -empty -delete 2>/dev/null || true
    aihpc_unlock
  fi
  if [ "$AIHPC_CHANGED" = 1 ]; then echo "aihpc: changed"; else echo "aihpc: unchanged"; fi
}

[ "$(id -u)" = 0 ] || aihpc_die "step '$AIHPC_STEP_NAME' must run as root: connect as root or allow passwordless sudo"

# Functions below always return 0 (a caller in `if`/`||` would switch off
# `set -e` inside them); they report through AIHPC_WROTE / AIHPC_CHANGED.
AIHPC_WROTE=0
aihpc_wrote() { [ "$AIHPC_WROTE" = 1 ]; }

# Install CONTENT (a string) at PATH with MODE and OWNER (user:group) only when
# the file differs. Sets AIHPC_WROTE=1 when it wrote, 0 when not.
aihpc_put() {
  local path="$1" mode="$2" owner="$3" content="$4" dir tmp
  AIHPC_WROTE=0
  dir="$(dirname "$path")"
  if [ -f "$path" ] && printf '%s\n' "$content" | cmp -s - "$path" &&
    [ "$(stat -c '%a %U:%G' "$path")" = "$(printf '%o' "$((8#$mode))") $owner" ]; then
    return 0
  fi
  # Only a missing folder is created: an existing one keeps its mode (~/.ssh).
  [ -d "$dir" ] || install -d -m 0755 "$dir"
  tmp="$(mktemp "$dir/.aihpc.XXXXXX")"
  printf '%s\n' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  chown "$owner" "$tmp"
  mv -f "$tmp" "$path"
  aihpc_log "wrote $path"
  AIHPC_CHANGED=1
  AIHPC_WROTE=1
}

# Remove files that exist; AIHPC_WROTE=1 when one was removed.
aihpc_rm() {
  local f
  AIHPC_WROTE=0
  for f in "$@"; do
    if [ -e "$f" ] || [ -L "$f" ]; then
      rm -f "$f"
      aihpc_log "removed $f"
      AIHPC_CHANGED=1
      AIHPC_WROTE=1
    fi
  done
}

# Whether a component was deployed with `retain: true` (see its retain step).
# Missing flag: keep (the safe answer when unsure).
aihpc_retain() {
  local f="/etc/aihpc/retain/$1"
  [ -f "$f" ] || return 0
  grep -qx 'retain=true' "$f"
}

aihpc_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

aihpc_apt_get() {
  apt-get -q -y -o DPkg::Lock::Timeout=600 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# Retry transient failures (mirror hiccups, proxy resets) three times.
aihpc_apt_retry() {
  local i
  for i in 1 2 3; do
    if aihpc_apt_get "$@"; then return 0; fi
    aihpc_warn "apt-get $1 failed (attempt $i of 3)"
    sleep $((i * 5))
    [ "$1" = update ] || aihpc_apt_get update >/dev/null 2>&1 || true
  done
  return 1
}

# Serialise the aihpc steps' package work on this host (before/after snapshots
# must not see another step's packages).
aihpc_lock() {
  install -d -m 0755 /run/lock
  exec 9>/run/lock/aihpc-apt.lock
  flock -w 1200 9 || aihpc_die "another aihpc step held the package lock for 20 minutes; check for a stuck apt-get on this host"
}
aihpc_unlock() { exec 9>&-; }

aihpc_pkg_list() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 2>/dev/null | awk '$1 ~ /^.i/ { print $2 }' | sort -u; }

# aihpc_apt_install TAG PKG...: install what is missing, recording under TAG
# the packages this stack added (requested ones and their new dependencies),
# so that teardown removes exactly those and nothing that was there before.
aihpc_apt_install() {
  local tag="$1" p before after
  shift
  local missing=()
  for p in "$@"; do aihpc_installed "$p" || missing+=("$p"); done
  [ "${#missing[@]}" -gt 0 ] || return 0
  aihpc_lock
  before="$(mktemp)"
  after="$(mktemp)"
  aihpc_pkg_list >"$before"
  if ! aihpc_apt_retry install --no-install-recommends "${missing[@]}"; then
    aihpc_apt_retry update || true
    aihpc_apt_retry install --no-install-recommends "${missing[@]}" ||
      aihpc_die "could not install ${missing[*]}: check the host's apt sources and proxy (workstation.aptProxy), then re-run"
  fi
  aihpc_pkg_list >"$after"
  install -d -m 0755 "$AIHPC_STATE/packages"
  printf '%s\n' "${missing[@]}" >>"$AIHPC_STATE/packages/$tag.requested"
  comm -13 "$before" "$after" >>"$AIHPC_STATE/packages/$tag.added"
  rm -f "$before" "$after"
  aihpc_unlock
  aihpc_log "installed ${missing[*]}"
  AIHPC_CHANGED=1
}

# aihpc_apt_remove TAG: purge what aihpc_apt_install recorded under TAG: the
# requested packages, then those added dependencies that nothing else needs.
aihpc_apt_remove() {
  local tag="$1" req="$AIHPC_STATE/packages/$1.requested" add="$AIHPC_STATE/packages/$1.added" p
  [ -f "$req" ] || [ -f "$add" ] || return 0
  aihpc_lock
  local purge=()
  if [ -f "$req" ]; then
    while read -r p; do [ -n "$p" ] && aihpc_installed "$p" && purge+=("$p"); done < <(sort -u "$req")
  fi
  if [ "${#purge[@]}" -gt 0 ]; then
    aihpc_apt_get purge "${purge[@]}"
    AIHPC_CHANGED=1
  fi
  if [ -f "$add" ]; then
    local orphans=()
    while read -r p; do orphans+=("$p"); done < <(
      comm -12 <(sort -u "$add") <(aihpc_apt_get -s autoremove 2>/dev/null | awk '/^Remv / { print $2 }' | sed 's/:.*//' | sort -u)
    )
    if [ "${#orphans[@]}" -gt 0 ]; then
      aihpc_apt_get purge "${orphans[@]}"
      AIHPC_CHANGED=1
    fi
  fi
  rm -f "$req" "$add"
  aihpc_unlock
  aihpc_log "removed packages recorded as '$tag'"
}

aihpc_have_systemd() { [ -d /run/systemd/system ]; }
aihpc_require_systemd() {
  aihpc_have_systemd || aihpc_die "systemd is not running as PID 1 on $(hostname); aihpc manages services with systemd: boot the host with systemd"
}

aihpc_unit_exists() { [ -n "$(systemctl list-unit-files --no-legend "$1" 2>/dev/null)" ]; }

# Enable and start a unit; restart it when RESTART=1. Fails with its journal.
aihpc_service() {
  local unit="$1" restart="${2:-0}"
  if ! systemctl is-enabled --quiet "$unit" 2>/dev/null; then
    systemctl enable --quiet "$unit"
    AIHPC_CHANGED=1
  fi
  if [ "$restart" = 1 ]; then
    systemctl restart "$unit" || aihpc_service_failed "$unit"
    aihpc_log "restarted $unit"
    AIHPC_CHANGED=1
  elif ! systemctl is-active --quiet "$unit"; then
    systemctl start "$unit" || aihpc_service_failed "$unit"
    aihpc_log "started $unit"
    AIHPC_CHANGED=1
  fi
}

aihpc_service_failed() {
  journalctl -u "$1" -n 30 --no-pager >&2 || true
  aihpc_die "$1 failed to start (journal above): fix the cause and re-run"
}

# Stop and disable a unit when present.
aihpc_service_off() {
  local unit="$1"
  aihpc_unit_exists "$unit" || return 0
  if systemctl is-active --quiet "$unit"; then
    systemctl stop "$unit" || true
    aihpc_log "stopped $unit"
    AIHPC_CHANGED=1
  fi
  if systemctl is-enabled --quiet "$unit" 2>/dev/null; then
    systemctl disable --quiet "$unit" || true
    AIHPC_CHANGED=1
  fi
}

aihpc_daemon_reload() { systemctl daemon-reload; }

# aihpc_timer_collector NAME DESCRIPTION INTERVAL BOOT_DELAY CONTENT [AFTER]:
# a textfile-collector program /usr/local/sbin/NAME run by NAME.service on
# NAME.timer every INTERVAL; systemd reloads only when a unit file changed.
aihpc_timer_collector() {
  local name="$1" desc="$2" interval="$3" boot="$4" content="$5" after="${6:-}" units
  local prog="/usr/local/sbin/$name" svc="/etc/systemd/system/$name.service" timer="/etc/systemd/system/$name.timer"
  aihpc_put "$prog" 0755 root:root "$content"
  aihpc_put "$svc" 0644 root:root "# Managed by aihpc
[Unit]
Description=aihpc: $desc${after:+
After=$after}

[Service]
Type=oneshot
ExecStart=$prog"
  units="$AIHPC_WROTE"
  aihpc_put "$timer" 0644 root:root "# Managed by aihpc (workstation.monitoring.prometheus.scrapeInterval)
[Unit]
Description=aihpc: $desc every $interval

[Timer]
OnBootSec=$boot
OnUnitActiveSec=$interval
AccuracySec=1s

[Install]
WantedBy=timers.target"
  [ "$AIHPC_WROTE" = 1 ] && units=1
  [ "$units" = 1 ] && systemctl daemon-reload
  aihpc_service "$name.timer" "$units"
  systemctl start "$name.service" || aihpc_warn "first run of $name failed: see journalctl -u $name"
}

# aihpc_timer_collector_remove NAME [OUTPUT...]: undo aihpc_timer_collector.
aihpc_timer_collector_remove() {
  local name="$1"
  shift
  aihpc_service_off "$name.timer"
  aihpc_rm "/etc/systemd/system/$name.timer" "/etc/systemd/system/$name.service" "/usr/local/sbin/$name" "$@"
}
