#!/usr/bin/env bash
# Debian's apt sources in deb822 form with contrib, non-free and
# non-free-firmware (NVIDIA's driver and the nvml Slurm plugin live there):
# DEBIAN_SOURCES (rendered in base-system/files.ts) at SOURCES_FILE, and
# SOURCES_LIST_STUB in place of a sources.list with deb lines (LIST_FILE).
# What was there before is saved and restored on teardown.
: "${SOURCES_FILE:?}" "${LIST_FILE:?}"
sources="$SOURCES_FILE"
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
    : "${DEBIAN_SOURCES:?}" "${SOURCES_LIST_STUB:?}"
    install -d -m 0755 "$saved"
    # Keep the host's own files once, before the first change.
    if [ -f "$sources" ] && [ ! -f "$saved/debian.sources" ] && ! grep -q '^# Managed by aihpc' "$sources"; then
      cp -p "$sources" "$saved/debian.sources"
    fi
    if [ -f "$LIST_FILE" ] && grep -Eq '^[[:space:]]*deb(-src)?[[:space:]]' "$LIST_FILE"; then
      [ -f "$saved/sources.list" ] || cp -p "$LIST_FILE" "$saved/sources.list"
      # Same suites in two files make apt warn about duplicates on every run.
      aihpc_put "$LIST_FILE" 0644 root:root "$SOURCES_LIST_STUB"
    fi
    aihpc_put "$sources" 0644 root:root "$DEBIAN_SOURCES"
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
      cp -p "$saved/sources.list" "$LIST_FILE" && aihpc_log "restored $LIST_FILE" && aihpc_mark_changed
    fi
    rm -rf "$saved"
    ;;
esac
aihpc_done
