#!/usr/bin/env bash
# Grafana from Grafana's apt repository (it is not in Debian), pinned to one
# version. The repository's key (REPO/gpg.key) is verified against the pinned
# fingerprint set (FINGERPRINTS, KEY_SHA256 when set) before it is trusted
# (lib.sh aihpc_apt_repo; apt's downloader, so workstation.aptProxy applies).
# Fails with what to do when the repository is out of reach.
repo=grafana
case "$AIHPC_ACTION" in
  apply)
    : "${REPO:?}" "${VERSION:?}" "${FINGERPRINTS:?}"
    aihpc_require_systemd
    aihpc_apt_repo "$repo" "$REPO/gpg.key" "$FINGERPRINTS" "${KEY_SHA256:-}" workstation.monitoring.grafana "# Managed by aihpc (workstation.monitoring.grafana.aptRepository)
deb [signed-by=/etc/apt/keyrings/aihpc-$repo.gpg] $REPO stable main" "# Managed by aihpc (versions.grafana / monitoring.grafana.version)
Package: grafana
Pin: version $VERSION
Pin-Priority: 1001"
    installed="$(dpkg-query -W -f='${Version}' grafana 2>/dev/null || true)"
    if [ "$installed" != "$VERSION" ]; then
      if [ -z "$installed" ]; then
        aihpc_apt_install grafana grafana
      else
        aihpc_apt_retry install --allow-downgrades "grafana=$VERSION" >&2 || aihpc_die "could not install grafana=$VERSION from $REPO: is the version published there?"
        aihpc_mark_changed
      fi
      [ "$(dpkg-query -W -f='${Version}' grafana 2>/dev/null || true)" = "$VERSION" ] ||
        aihpc_die "grafana $VERSION is not what got installed: check that $REPO publishes it"
    fi
    ;;
  delete)
    aihpc_service_off grafana-server.service
    if aihpc_retain monitoring; then
      aihpc_log "retain: keeping grafana and its data"
    else
      aihpc_apt_remove grafana
      aihpc_apt_repo_remove "$repo"
    fi
    ;;
esac
aihpc_done
