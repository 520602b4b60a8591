# shellcheck shell=bash
# aihpc step library: every provisioning step runs as
#   VAR=... bash /var/lib/aihpc/bundle/<hash>/lib.sh /var/lib/aihpc/bundle/<hash>/STEP.sh
# (see components/steps/index.ts and components/steps/bundle.ts). Every step:
#   - is idempotent: it compares before it changes, and a second run prints
#     `aihpc: unchanged` as its last line (`aihpc: changed` otherwise);
#   - waits for the dpkg lock and serialises its own apt work per host;
#   - fails with `aihpc: error: ...` saying what to do.
set -euo pipefail
umask 022
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

AIHPC_CHANGED=0
AIHPC_STATE=/var/lib/aihpc
# Copied stack files (aihpc_inputs), beside, not in, $AIHPC_STATE/files (aihpc_sync_files' records); another only in tests.
AIHPC_COPIED_DIR="${AIHPC_COPIED_DIR:-$AIHPC_STATE/copied}"
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
# aihpc_contains WORD [ITEM...]: whether WORD is one of the ITEMs. Not
# `printf '%s\n' ITEMS | grep -qx WORD`: under pipefail that says "absent" when
# grep matches and exits before printf's last write (one write per item), which
# happens under load: a file just written was removed as gone from its set.
aihpc_contains() {
  local w="$1" x
  shift
  for x in "$@"; do [ "$x" = "$w" ] && return 0; done
  return 1
}

aihpc_apt_get() {
  apt-get -q -y -o DPkg::Lock::Timeout=600 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# aihpc_apt_get with its output kept out of the step's own (which Pulumi keeps
# in its state for every step): the last 40 lines go to stderr if it fails.
aihpc_apt_logged() {
  local out rc=0
  out="$(mktemp)"
  aihpc_apt_get "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then tail -n 40 "$out" >&2; fi
  rm -f "$out"
  return "$rc"
}

# Retry transient failures (mirror hiccups, proxy resets) three times.
aihpc_apt_retry() {
  local i
  for i in 1 2 3; do
    if aihpc_apt_logged "$@"; then return 0; fi
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

# What `apt-get -s purge PKG...` would take off the host, one name a line.
aihpc_apt_purge_set() { aihpc_apt_get -s purge "$@" 2>/dev/null | awk '/^(Purg|Remv) / { print $2 }' | sed 's/:.*//' | sort -u; }

# aihpc_apt_orphans ADDED_FILE: of the packages listed there (dependencies a
# step's install added), those still installed and still marked automatic
# (one a person installed by name since is theirs) whose purge takes nothing
# else off the host but what apt already calls unneeded. Not `apt-get autoremove`: it keeps what any installed
# package merely suggests or recommends (perl, after MariaDB), and every
# provider of a virtual package (gawk beside mawk for `awk`), so teardown
# would leave them although nothing needs them and the stack brought them.
aihpc_apt_orphans() {
  local cand r extra drop orphans
  cand="$(comm -12 <(sort -u "$1") <(comm -12 <(aihpc_pkg_list) <(apt-mark showauto 2>/dev/null | sed 's/:.*//' | sort -u)))"
  # What apt itself calls unneeded may go along (an orphan another step
  # added, such as the MariaDB plugin of a slurmdbd that munge's purge took).
  orphans="$(aihpc_apt_get -s autoremove 2>/dev/null | awk '/^Remv / { print $2 }' | sed 's/:.*//' | sort -u)"
  # Purge them all, as apt would: what else that takes off the host needs
  # some of them, so those stay (with what they need); simulated again until
  # the purge takes nothing but candidates.
  while [ -n "$cand" ]; do
    # shellcheck disable=SC2086 # one package name per word
    r="$(aihpc_apt_purge_set $cand)"
    extra="$(comm -23 <(printf '%s\n' "$r") <(printf '%s\n' "$cand") | comm -23 - <(printf '%s\n' "$orphans"))"
    if [ -z "$extra" ]; then
      [ -z "$r" ] || printf '%s\n' "$r"
      return 0
    fi
    # shellcheck disable=SC2086
    drop="$(apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances $extra 2>/dev/null |
      awk '/^[^ <]/ { print } /Depends: [^<]/ { print $NF }' | sed 's/:.*//' | sort -u)"
    r="$(comm -23 <(printf '%s\n' "$cand") <(printf '%s\n' "$drop"))"
    # Nothing dropped (apt's reasons are its own): keep them all.
    [ "$r" != "$cand" ] || return 0
    cand="$r"
  done
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
    aihpc_apt_logged purge "${purge[@]}" || aihpc_die "could not purge ${purge[*]} (apt's output above)"
    AIHPC_CHANGED=1
  fi
  if [ -f "$add" ]; then
    local orphans=()
    while read -r p; do [ -n "$p" ] && orphans+=("$p"); done < <(aihpc_apt_orphans "$add")
    if [ "${#orphans[@]}" -gt 0 ]; then
      aihpc_apt_logged purge "${orphans[@]}" || aihpc_die "could not purge ${orphans[*]} (apt's output above)"
      AIHPC_CHANGED=1
    fi
  fi
  rm -f "$req" "$add"
  aihpc_unlock
  aihpc_log "removed packages recorded as '$tag'"
}

# aihpc_apt_install_pinned TAG HINT SPEC...: like aihpc_apt_install, for
# packages held at a version. SPEC is PKG (any version, installed when
# missing) or PKG=VERSION, where VERSION is exact or an apt-preference glob
# (`535.*`, `20.10.24+*`): a package missing or at a version that does not
# match is installed, upgraded or downgraded in place (an exact VERSION is
# asked of apt; for a glob, the step's apt preference picks the version).
# Recorded under TAG: the packages it installed (not those it moved: they
# were there before) and their new dependencies. Afterwards every SPEC must
# match, or the step fails; HINT says what to check then.
aihpc_apt_install_pinned() {
  local tag="$1" hint="$2" spec name ver have before after
  shift 2
  local ask=() new=() check=()
  for spec in "$@"; do
    name="${spec%%=*}" ver=""
    [ "$name" = "$spec" ] || ver="${spec#*=}"
    have="$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)"
    aihpc_installed "$name" || { have="" && new+=("$name"); }
    [ -z "$ver" ] || check+=("$spec")
    # shellcheck disable=SC2254 # VERSION is a glob on purpose
    if [ -n "$have" ] && { [ -z "$ver" ] || case "$have" in $ver) true ;; *) false ;; esac; }; then continue; fi
    case "$ver" in *'*'*) ask+=("$name") ;; *) ask+=("$spec") ;; esac
  done
  [ "${#ask[@]}" -gt 0 ] || return 0
  aihpc_lock
  before="$(mktemp)"
  after="$(mktemp)"
  aihpc_pkg_list >"$before"
  aihpc_apt_retry install --no-install-recommends --allow-downgrades "${ask[@]}" >&2 ||
    aihpc_die "could not install ${ask[*]}: $hint, then re-run"
  aihpc_pkg_list >"$after"
  install -d -m 0755 "$AIHPC_STATE/packages"
  [ "${#new[@]}" -eq 0 ] || printf '%s\n' "${new[@]}" >>"$AIHPC_STATE/packages/$tag.requested"
  comm -13 "$before" "$after" >>"$AIHPC_STATE/packages/$tag.added"
  rm -f "$before" "$after"
  aihpc_unlock
  for spec in "${check[@]}"; do
    have="$(dpkg-query -W -f='${Version}' "${spec%%=*}" 2>/dev/null || true)"
    # shellcheck disable=SC2254
    case "$have" in ${spec#*=}) ;; *) aihpc_die "${spec%%=*} ${have:-(none)} is installed, but ${spec#*=} is pinned: $hint" ;; esac
  done
  aihpc_log "installed ${ask[*]}"
  AIHPC_CHANGED=1
}

# ---- third-party apt repositories: verified before they are trusted --------

# aihpc_key_fprs FILE: the primary-key fingerprints in an OpenPGP key file
# (armored or binary), upper case, sorted, one a line. Nothing is imported:
# gpg runs in a throw-away home.
aihpc_key_fprs() {
  local home
  home="$(mktemp -d)"
  gpg --homedir "$home" --batch --no-autostart --show-keys --with-colons "$1" 2>/dev/null |
    awk -F: '$1 == "pub" { p = 1; next } $1 == "fpr" && p { print toupper($10); p = 0 }' | sort -u
  rm -rf "$home"
}

# aihpc_fetch URL DEST [SHA256]: download URL to DEST with apt's own
# downloader (workstation.aptProxy and its credentials in auth.conf.d apply),
# then check DEST's sha256 when SHA256 is given. Returns 1 (DEST removed) when
# the download fails or the sha256 differs, saying which on stderr.
aihpc_fetch() {
  local url="$1" dest="$2" sha="${3:-}" dir got
  dir="$(mktemp -d)"
  chmod 0755 "$dir"
  ! getent passwd _apt >/dev/null || chown _apt "$dir"
  if ! /usr/lib/apt/apt-helper -o Acquire::Retries=2 -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 \
    download-file "$url" "$dir/file" >/dev/null 2>"$dir/err"; then
    cat "$dir/err" >&2
    rm -rf "$dir"
    return 1
  fi
  if [ -n "$sha" ]; then
    got="$(sha256sum "$dir/file" | cut -d' ' -f1)"
    if [ "$got" != "$sha" ]; then
      printf 'aihpc: %s has sha256 %s, but %s is pinned\n' "$url" "$got" "$sha" >&2
      rm -rf "$dir"
      return 1
    fi
  fi
  install -m 0644 -o root -g root "$dir/file" "$dest"
  rm -rf "$dir"
}

# aihpc_apt_repo NAME KEY_URL FINGERPRINTS KEY_SHA256 SETTING SOURCE [PIN]
# One third-party apt repository, the only way steps add one:
#  1. its signing key: KEY_URL is downloaded to a temporary file, its sha256
#     checked when KEY_SHA256 is set, and the set of its primary-key
#     fingerprints must EQUAL the pinned set FINGERPRINTS (space-separated):
#     a missing key or any extra key stops the step with nothing installed.
#     Only then is it installed (binary, 0644) as
#     /etc/apt/keyrings/aihpc-NAME.gpg. A keyring already there holding
#     exactly that set is kept without a download;
#  2. SOURCE (its lines carry [signed-by=/etc/apt/keyrings/aihpc-NAME.gpg],
#     only that key) in /etc/apt/sources.list.d/aihpc-NAME.list, and PIN (apt
#     preferences; none when empty) in /etc/apt/preferences.d/aihpc-NAME;
#  3. when anything changed, `apt-get update` of that source alone, failing on
#     any error; a failure removes the source again (a dead source would break
#     every other step's update).
# SETTING names the config that holds the pins, for messages. Sets
# AIHPC_WROTE=1 when it changed something, 0 when not.
aihpc_apt_repo() {
  local name="$1" key_url="$2" fprs="$3" key_sha="$4" setting="$5" source="$6" pin="${7:-}"
  local keyring="/etc/apt/keyrings/aihpc-$name.gpg" list="/etc/apt/sources.list.d/aihpc-$name.list" prefs="/etc/apt/preferences.d/aihpc-$name"
  local want got tmp changed=0
  want="$(printf '%s\n' "$fprs" | tr -s '[:blank:]' '\n' | grep -v '^$' | tr 'a-f' 'A-F' | sort -u || true)"
  [ -n "$want" ] || aihpc_die "no key fingerprint pinned for $name: set $setting.keyFingerprints"
  case "$source" in *"[signed-by=$keyring]"*) ;; *) aihpc_die "the source for $name must be signed by $keyring alone" ;; esac
  if [ ! -f "$keyring" ] || [ "$(aihpc_key_fprs "$keyring")" != "$want" ]; then
    tmp="$(mktemp -d)"
    aihpc_fetch "$key_url" "$tmp/key" "$key_sha" ||
      aihpc_die "could not fetch the signing key $key_url${key_sha:+ with the pinned sha256} from $(hostname): the repository must be reachable (workstation.aptProxy applies), or mirrored (the repository setting under $setting)${key_sha:+; check $setting.keySha256}; nothing was installed"
    got="$(aihpc_key_fprs "$tmp/key")"
    if [ "$got" != "$want" ]; then
      rm -rf "$tmp"
      aihpc_die "the key file $key_url holds the key(s) [$(echo "$got" | xargs)], but exactly [$(echo "$want" | xargs)] is pinned ($setting.keyFingerprints, default in config/versions.ts aptKeys): nothing was installed. Check the vendor's published fingerprints before changing the pin"
    fi
    if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$tmp/key"; then
      gpg --batch --yes --dearmor -o "$tmp/key.gpg" "$tmp/key" || aihpc_die "$key_url: could not convert the armored key"
    else
      cp "$tmp/key" "$tmp/key.gpg"
    fi
    [ "$(aihpc_key_fprs "$tmp/key.gpg")" = "$want" ] || aihpc_die "$key_url: the converted keyring does not hold exactly the pinned keys; nothing was installed"
    install -d -m 0755 "$(dirname "$keyring")"
    install -m 0644 -o root -g root "$tmp/key.gpg" "$keyring.aihpc-new"
    mv -f "$keyring.aihpc-new" "$keyring"
    rm -rf "$tmp"
    aihpc_log "installed $keyring ($(echo "$want" | xargs), verified)"
    AIHPC_CHANGED=1
    changed=1
  fi
  aihpc_put "$list" 0644 root:root "$source"
  [ "$AIHPC_WROTE" = 0 ] || changed=1
  if [ -n "$pin" ]; then
    aihpc_put "$prefs" 0644 root:root "$pin"
    [ "$AIHPC_WROTE" = 0 ] || changed=1
  else
    aihpc_rm "$prefs"
  fi
  if [ "$changed" = 1 ]; then
    if ! aihpc_apt_retry update --error-on=any -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >&2; then
      aihpc_rm "$list"
      aihpc_die "apt-get update of the $name repository failed (source removed again): check $setting and workstation.aptProxy, then re-run"
    fi
  fi
  AIHPC_WROTE="$changed"
}

# aihpc_apt_repo_remove NAME: remove what aihpc_apt_repo NAME installed.
aihpc_apt_repo_remove() {
  aihpc_rm "/etc/apt/sources.list.d/aihpc-$1.list" "/etc/apt/preferences.d/aihpc-$1" "/etc/apt/keyrings/aihpc-$1.gpg"
}

# ---- sets of files -----------------------------------------------------------

# aihpc_sync_files TAG DEST SET [EXEC]: make DEST hold the files of SET, the
# file-set encoding `REL=BASE64 ...` (components/steps/files.ts fileSet, or a
# bundled set: lib.sh aihpc_inputs). Each file is written when it differs
# (aihpc_put: 0644 root:root, 0755 where REL matches the glob EXEC); files
# this helper wrote under TAG before (recorded in $AIHPC_STATE/files/TAG)
# that SET no longer holds are removed, and nothing else in DEST is touched.
# Sets AIHPC_WROTE=1 when a file was written or removed.
aihpc_sync_files() {
  local tag="$1" dest="$2" set="$3" exec="${4:-}" record="$AIHPC_STATE/files/$1" entry rel mode wrote=0 f
  local names=()
  for entry in $set; do
    rel="${entry%%=*}"
    case "$rel" in /* | *..* | '' | "$entry") aihpc_die "file set $tag: bad entry '${rel:0:80}'" ;; esac
    names+=("$rel")
  done
  for entry in $set; do
    rel="${entry%%=*}"
    mode=0644
    # shellcheck disable=SC2254 # EXEC is a glob on purpose
    [ -z "$exec" ] || case "$rel" in $exec) mode=0755 ;; esac
    [ -d "$(dirname "$dest/$rel")" ] || install -d -m 0755 "$(dirname "$dest/$rel")"
    aihpc_put "$dest/$rel" "$mode" root:root "$(printf '%s' "${entry#*=}" | base64 -d)"
    [ "$AIHPC_WROTE" = 0 ] || wrote=1
  done
  if [ -f "$record" ]; then
    while read -r f; do
      [ -n "$f" ] || continue
      aihpc_contains "$f" "${names[@]}" && continue
      aihpc_rm "$dest/$f"
      [ "$AIHPC_WROTE" = 0 ] || wrote=1
    done <"$record"
  fi
  install -d -m 0755 "$(dirname "$record")"
  printf '%s\n' "${names[@]}" | sort -u >"$record"
  AIHPC_WROTE="$wrote"
}

# aihpc_sync_files_remove TAG DEST: remove what aihpc_sync_files TAG wrote
# under DEST, then DEST's folders once empty. AIHPC_WROTE=1 when it removed.
aihpc_sync_files_remove() {
  local record="$AIHPC_STATE/files/$1" dest="$2" f wrote=0
  if [ -f "$record" ]; then
    while read -r f; do
      [ -n "$f" ] || continue
      aihpc_rm "$dest/$f"
      [ "$AIHPC_WROTE" = 0 ] || wrote=1
    done <"$record"
    rm -f "$record"
  fi
  [ ! -d "$dest" ] || find "$dest" -depth -type d -empty -delete 2>/dev/null || true
  AIHPC_WROTE="$wrote"
}

aihpc_have_systemd() { [ -d /run/systemd/system ]; }
aihpc_require_systemd() {
  aihpc_have_systemd || aihpc_die "systemd is not running as PID 1 on $(hostname); aihpc manages services with systemd: boot the host with systemd"
}

# systemctl answers nothing, as for a unit it does not know, while PID 1
# reloads (another step's daemon-reload or enable on this host): a unit
# whose file is on disk is asked about again.
aihpc_unit_exists() {
  local i d
  for i in 1 2 3 4 5; do
    [ -n "$(systemctl list-unit-files --no-legend "$1" 2>/dev/null)" ] && return 0
    for d in /etc/systemd/system /run/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
      [ -e "$d/$1" ] && break
      d=""
    done
    [ -n "$d" ] || return 1
    sleep "$i"
  done
  return 0
}

# `systemctl is-enabled`'s word for UNIT (enabled, disabled, static, ...),
# asked again while it gives none (a reload in progress).
aihpc_unit_enabled() {
  local i state
  for i in 1 2 3 4 5; do
    state="$(systemctl is-enabled "$1" 2>/dev/null || true)"
    [ -n "$state" ] && break
    sleep "$i"
  done
  printf '%s\n' "$state"
}

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
  local i
  aihpc_unit_exists "$unit" || return 0
  if systemctl is-active --quiet "$unit"; then
    systemctl stop "$unit" || true
    aihpc_log "stopped $unit"
    AIHPC_CHANGED=1
  fi
  # disable reloads PID 1 and fails while another step's reload runs: asked
  # again, so that no link in *.wants outlives the unit file a step removes.
  if [[ "$(aihpc_unit_enabled "$unit")" == enabled* ]]; then
    for i in 1 2 3 4 5; do
      systemctl disable --quiet "$unit" 2>/dev/null && break
      sleep "$i"
    done
    [[ "$(aihpc_unit_enabled "$unit")" != enabled* ]] || aihpc_die "could not disable $unit (systemctl disable $unit failed 5 times): re-run"
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

# Inputs that do not travel in the command line (steps.ts writes them):
#   AIHPC_FILES="VAR=PATH ..."   VAR is the text of a bundled file;
#   AIHPC_SETS="VAR=REL:PATH,REL:PATH ..."   VAR is "REL=BASE64 ..." of bundled files
#     (the file-set encoding, as components/steps/files.ts fileSet writes it);
#   AIHPC_PAYLOAD=1   stdin holds "aihpc-payload 1", then "VAR BASE64" lines (files
#     rendered for this host), "-copied VAR=PATH@SHA256" lines (a file rendered
#     for the whole stack and copied to the host, components/steps/copied.ts:
#     on apply checked against its sha256, then kept by hash in
#     $AIHPC_COPIED_DIR, where a later run finds it; the newest three per
#     variable stay, the bundle's teardown removes them) and maybe
#     "-stdin BASE64", which becomes the step's stdin (a secret: it never
#     touches argv or disk).
# They are shell variables, not exported: a file of any size never reaches a
# child's environment (Linux caps one at 128 KiB).
aihpc_inputs() {
  local e var rel p list header name b64 stdin_b64="" copied="" sha kept got
  for e in ${AIHPC_FILES:-}; do
    var="${e%%=*}" p="${e#*=}"
    [ -f "$p" ] || aihpc_die "bundled file $p is missing: re-run \`pulumi up\` (it re-installs the step bundle)"
    printf -v "$var" '%s' "$(cat "$p")"
  done
  for e in ${AIHPC_SETS:-}; do
    var="${e%%=*}" list=""
    for p in $(printf '%s' "${e#*=}" | tr ',' ' '); do
      rel="${p%%:*}" p="${p#*:}"
      [ -f "$p" ] || aihpc_die "bundled file $p is missing: re-run \`pulumi up\` (it re-installs the step bundle)"
      list="$list${list:+ }$rel=$(base64 -w0 <"$p")"
    done
    printf -v "$var" '%s' "$list"
  done
  if [ "${AIHPC_PAYLOAD:-0}" = 1 ]; then
    IFS= read -r header || true
    [ "$header" = "aihpc-payload 1" ] || aihpc_die "step '$AIHPC_STEP_NAME': its input on stdin is missing or not an aihpc payload"
    while IFS=' ' read -r name b64; do
      case "$name" in
        -stdin) stdin_b64="$b64" ;;
        -copied) copied="$copied $b64" ;;
        [A-Z]*)
          printf -v "$name" '%s' "$(printf '%s' "$b64" | base64 -d)"
          ;;
        *) aihpc_die "step '$AIHPC_STEP_NAME': bad payload line '$name'" ;;
      esac
    done
    # Teardown does not read them: a delete never fails on a file an apply never kept.
    [ "${AIHPC_ACTION:-apply}" = delete ] || for e in $copied; do
      var="${e%%=*}" p="${e#*=}"
      sha="${p##*@}" p="${p%@*}"
      [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || aihpc_die "step '$AIHPC_STEP_NAME': bad copied file '$e'"
      kept="$AIHPC_COPIED_DIR/$var.${sha:0:16}"
      if [ ! -f "$kept" ]; then
        [ -f "$p" ] || aihpc_die "the copied file $p ($var) is missing on $(hostname): run \`pulumi up\` again (it copies the file before this step)"
        got="$(sha256sum "$p" | cut -d' ' -f1)"
        [ "$got" = "$sha" ] || aihpc_die "the copied file $p ($var) has sha256 $got, expected $sha: not using it; run \`pulumi up\` again"
        install -d -m 0700 "$AIHPC_COPIED_DIR"
        install -m 0600 "$p" "$kept.tmp"
        mv -f "$kept.tmp" "$kept"
        # The copy in /var/tmp was only the way in.
        case "${p##*/}" in aihpc-file-*) rm -f "$p" ;; esac
        find "$AIHPC_COPIED_DIR" -maxdepth 1 -name "$var.*" -printf '%T@ %p\n' | sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f
      fi
      printf -v "$var" '%s' "$(cat "$kept")"
    done
    if [ -n "$stdin_b64" ]; then
      exec 0< <(printf '%s' "$stdin_b64" | base64 -d)
    else
      exec 0</dev/null
    fi
  fi
}

# Run as `bash lib.sh STEP.sh`: inputs first, then the step with this library loaded.
if [ "${BASH_SOURCE[0]:-}" = "$0" ] && [ "$#" -ge 1 ]; then
  aihpc_step_file="$1"
  shift
  aihpc_inputs
  # shellcheck source=/dev/null
  . "$aihpc_step_file"
fi
