#!/usr/bin/env bash
# Debian's apt sources in deb822 form with contrib, non-free and
# non-free-firmware (NVIDIA's driver and the nvml Slurm plugin live there).
# What was there before is saved and restored on teardown.
sources=/etc/apt/sources.list.d/debian.sources
saved="$AIHPC_STATE/saved/apt"
case "$AIHPC_ACTION" in
  apply)
    : "${MIRROR:?}" "${SECURITY_MIRROR:?}"
    # One URI each, nothing that ends the field: the schema re-serialises both; refuse anything else here too.
    for u in "$MIRROR" "$SECURITY_MIRROR"; do
      case "$u" in
        http://* | https://*) ;;
        *) aihpc_die "workstation.base.aptMirror/aptSecurityMirror: expected an http:// or https:// URL, got '$u'" ;;
      esac
      case "$u" in
        *[!A-Za-z0-9._~:/@%+=,[\]-]*) aihpc_die "workstation.base.aptMirror/aptSecurityMirror: refusing a URL with spaces, newlines or characters no URL needs (it would add lines or URIs to the deb822 file)" ;;
      esac
    done
    # shellcheck disable=SC1091
    codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
    [ "$codename" = bookworm ] || aihpc_die "expected Debian 12 (bookworm), found '${codename:-unknown}': aihpc supports Debian 12 only"
    want="# Managed by aihpc (workstation.base.aptMirror).
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main contrib non-free non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main contrib non-free non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    install -d -m 0755 "$saved"
    # Keep the host's own files once, before the first change.
    if [ -f "$sources" ] && [ ! -f "$saved/debian.sources" ] && ! grep -q '^# Managed by aihpc' "$sources"; then
      cp -p "$sources" "$saved/debian.sources"
    fi
    if [ -f /etc/apt/sources.list ] && grep -Eq '^[[:space:]]*deb(-src)?[[:space:]]' /etc/apt/sources.list; then
      [ -f "$saved/sources.list" ] || cp -p /etc/apt/sources.list "$saved/sources.list"
      # Same suites in two files make apt warn about duplicates on every run.
      aihpc_put /etc/apt/sources.list 0644 root:root "# Managed by aihpc: Debian's sources are in $sources"
    fi
    aihpc_put "$sources" 0644 root:root "$want"
    if [ "$AIHPC_WROTE" = 1 ] || [ ! -d /var/lib/apt/lists ] || [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -print -quit)" ]; then
      # apt-get update exits 0 when downloads fail (it only warns); with
      # --error-on=any an unreachable mirror or proxy fails here, in seconds
      # (apt's own three retries), not at the first install of a later step.
      via="set workstation.aptProxy if it needs a proxy"
      [ -f /etc/apt/apt.conf.d/80aihpc-proxy ] && via="through workstation.aptProxy"
      aihpc_apt_get update --error-on=any ||
        aihpc_die "apt-get update failed (errors above): check that workstation.base.aptMirror ($MIRROR) and aptSecurityMirror ($SECURITY_MIRROR) are reachable from $(hostname) ($via), then re-run"
      aihpc_mark_changed
    fi
    ;;
  delete)
    if [ -f "$saved/debian.sources" ]; then
      cp -p "$saved/debian.sources" "$sources" && aihpc_log "restored $sources" && aihpc_mark_changed
    elif [ -f "$sources" ] && grep -q '^# Managed by aihpc' "$sources"; then
      aihpc_rm "$sources"
    fi
    if [ -f "$saved/sources.list" ]; then
      cp -p "$saved/sources.list" /etc/apt/sources.list && aihpc_log "restored /etc/apt/sources.list" && aihpc_mark_changed
    fi
    rm -rf "$saved"
    ;;
esac
aihpc_done
