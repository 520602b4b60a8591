#!/usr/bin/env bash
# The Google Cloud CLI (gcloud, gsutil, docker-credential-gcloud) and, with
# PACKAGES naming it, Cloud Storage FUSE, from Google's apt repository or a
# mirror of it (REPO), each pinned to one version. When the repository is out of
# reach the step fails saying what to do and leaves no source behind (a dead
# source would fail every other step's apt-get update).
# REPO, PACKAGES (`name=version` words). The key and the packages come through
# apt, so workstation.aptProxy applies to both.
keyring=/etc/apt/keyrings/aihpc-google-cloud.gpg
list=/etc/apt/sources.list.d/aihpc-google-cloud.list
pin=/etc/apt/preferences.d/aihpc-google-cloud
tag=hybrid-gcloud
case "$AIHPC_ACTION" in
  apply)
    : "${REPO:?}" "${PACKAGES:?}"
    want_list="# Managed by aihpc (gcp.hybrid.gcloudCli.aptRepository)
deb [signed-by=$keyring] $REPO cloud-sdk main"
    want_pin="# Managed by aihpc (gcp.hybrid: pinned versions)"
    names=()
    for p in $PACKAGES; do
      name="${p%%=*}" version="${p#*=}"
      names+=("$name")
      [ "$name" = gcsfuse ] && want_list="$want_list
deb [signed-by=$keyring] $REPO gcsfuse-bookworm main"
      want_pin="$want_pin

Package: $name
Pin: version $version
Pin-Priority: 1001"
    done
    current=1
    for p in $PACKAGES; do
      [ "$(dpkg-query -W -f='${Version}' "${p%%=*}" 2>/dev/null || true)" = "${p#*=}" ] || current=0
    done
    if [ "$current" = 1 ] && [ -f "$list" ] && [ -f "$keyring" ] && printf '%s\n' "$want_list" | cmp -s - "$list"; then
      aihpc_put "$pin" 0644 root:root "$want_pin"
    else
      # apt's own downloader: the same proxy settings (workstation.aptProxy, per-host exceptions) as the install.
      tmpd="$(mktemp -d)"
      trap 'rm -rf "$tmpd"' EXIT
      chmod 0755 "$tmpd"
      key="$tmpd/apt-key.gpg"
      /usr/lib/apt/apt-helper -o Acquire::Retries=1 -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 \
        download-file "$REPO/doc/apt-key.gpg" "$key" >/dev/null 2>"$tmpd/err" || { cat "$tmpd/err" >&2; false; } ||
        aihpc_die "cannot reach Google's apt repository $REPO from $(hostname) (fetching $REPO/doc/apt-key.gpg): point gcp.hybrid.gcloudCli.aptRepository at a reachable mirror (or allow it through workstation.aptProxy), or set gcp.hybrid.gcloudCli.install=false where gcloud comes from elsewhere"
      install -d -m 0755 /etc/apt/keyrings
      if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$key"; then
        gpg --batch --yes --dearmor -o "$keyring.new" "$key" || aihpc_die "$REPO/doc/apt-key.gpg is not a PGP key: check gcp.hybrid.gcloudCli.aptRepository"
      else
        cp "$key" "$keyring.new"
      fi
      chmod 0644 "$keyring.new"
      mv -f "$keyring.new" "$keyring"
      aihpc_put "$list" 0644 root:root "$want_list"
      aihpc_put "$pin" 0644 root:root "$want_pin"
      if ! aihpc_apt_retry update -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0; then
        aihpc_rm "$list"
        aihpc_die "apt-get update of $REPO failed (source removed again): check the mirror and the proxy, or set gcp.hybrid.gcloudCli.install=false"
      fi
      aihpc_apt_install "$tag" "${names[@]}"
      # Already installed at another version: move to the pin.
      aihpc_apt_retry install --allow-downgrades --no-install-recommends "${names[@]}" ||
        aihpc_die "could not install ${PACKAGES} from $REPO: is that version published there?"
      for p in $PACKAGES; do
        got="$(dpkg-query -W -f='${Version}' "${p%%=*}" 2>/dev/null || true)"
        [ "$got" = "${p#*=}" ] || aihpc_die "${p%%=*} ${p#*=} is pinned but ${got:-nothing} got installed: check that $REPO publishes it"
      done
      aihpc_mark_changed
    fi
    ;;
  delete)
    aihpc_apt_remove "$tag"
    aihpc_rm "$list" "$pin" "$keyring"
    ;;
esac
aihpc_done
