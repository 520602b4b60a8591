#!/usr/bin/env bash
# Grafana from Grafana's apt repository (it is not in Debian), pinned to one
# version. Fails with what to do when the repository is out of reach.
keyring=/etc/apt/keyrings/aihpc-grafana.gpg
list=/etc/apt/sources.list.d/aihpc-grafana.list
pin=/etc/apt/preferences.d/aihpc-grafana
case "$AIHPC_ACTION" in
  apply)
    : "${REPO:?}" "${VERSION:?}"
    aihpc_require_systemd
    installed="$(dpkg-query -W -f='${Version}' grafana 2>/dev/null || true)"
    if [ "$installed" != "$VERSION" ] || [ ! -f "$list" ]; then
      proxy=()
      [ -n "${APT_PROXY:-}" ] && proxy=(--proxy "$APT_PROXY")
      key="$(mktemp)"
      trap 'rm -f "$key"' EXIT
      curl -fsSL --max-time 30 "${proxy[@]}" "$REPO/gpg.key" -o "$key" ||
        aihpc_die "cannot reach Grafana's apt repository $REPO from $(hostname): allow it (and its https) through workstation.aptProxy, point monitoring.grafana.aptRepository at a mirror, or set monitoring.grafana.enabled=false"
      install -d -m 0755 /etc/apt/keyrings
      gpg --batch --yes --dearmor -o "$keyring.new" "$key" || aihpc_die "$REPO/gpg.key is not a PGP key: check monitoring.grafana.aptRepository"
      chmod 0644 "$keyring.new"
      mv -f "$keyring.new" "$keyring"
      aihpc_put "$list" 0644 root:root "deb [signed-by=$keyring] $REPO stable main"
      aihpc_put "$pin" 0644 root:root "# Managed by aihpc (versions.grafana / monitoring.grafana.version)
Package: grafana
Pin: version $VERSION
Pin-Priority: 1001"
      aihpc_apt_retry update -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 ||
        aihpc_die "apt-get update of $REPO failed: check the proxy and the repository, or set monitoring.grafana.enabled=false"
      if [ -z "$installed" ]; then
        aihpc_apt_install grafana grafana
      else
        aihpc_apt_retry install --allow-downgrades "grafana=$VERSION" || aihpc_die "could not install grafana=$VERSION from $REPO: is the version published there?"
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
      aihpc_rm "$list" "$pin" "$keyring"
    fi
    ;;
esac
aihpc_done
