#!/usr/bin/env bash
# Apptainer from its upstream release .deb (Debian 12 has none): the pinned
# version from URL, checked against the configured sha256 before it is
# installed (a mismatch or a failed download stops the step; nothing is
# installed), then apt resolves its dependencies.
tag=apptainer
case "$AIHPC_ACTION" in
  apply)
    : "${APPTAINER_VERSION:?}" "${APPTAINER_URL:?}" "${APPTAINER_SHA256:?}"
    if [ "$(dpkg-query -W -f='${Version}' apptainer 2>/dev/null || true)" != "$APPTAINER_VERSION" ]; then
      tmp="$(mktemp -d)"
      trap 'rm -rf "$tmp"' EXIT
      deb="$tmp/apptainer_${APPTAINER_VERSION}_amd64.deb"
      curl -fsSL --retry 3 --connect-timeout 20 -o "$deb" "$APPTAINER_URL" ||
        aihpc_die "could not download $APPTAINER_URL: the host needs HTTPS access to GitHub releases (or set workstation.containers.apptainer.url to a mirror), then re-run"
      got="$(sha256sum "$deb" | cut -d' ' -f1)"
      [ "$got" = "$APPTAINER_SHA256" ] ||
        aihpc_die "sha256 of $APPTAINER_URL is $got, the config says $APPTAINER_SHA256: not installing it (check workstation.containers.apptainer.sha256 against the release's sha256sums)"
      chmod 0644 "$deb" && chmod 0755 "$tmp"
      aihpc_apt_install "$tag" "$deb"
      sed -i "s|^$deb\$|apptainer|" "$AIHPC_STATE/packages/$tag.requested"
    fi
    aihpc_log "$(apptainer --version)"
    ;;
  delete)
    if aihpc_retain containers; then aihpc_log "retain: keeping apptainer"; else aihpc_apt_remove "$tag"; fi
    ;;
esac
aihpc_done
