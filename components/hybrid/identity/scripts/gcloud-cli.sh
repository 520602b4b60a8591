#!/usr/bin/env bash
# The Google Cloud CLI (gcloud, gsutil, docker-credential-gcloud) and, with
# PACKAGES naming it, Cloud Storage FUSE, from Google's apt repository or a
# mirror of it (REPO), each pinned to one version. The repository's key
# (REPO/KEY_PATH) is verified against the pinned fingerprint set
# (FINGERPRINTS, KEY_SHA256 when set) before it is trusted (lib.sh
# aihpc_apt_repo, with apt's downloader: workstation.aptProxy applies). When
# the repository is out of reach the step fails saying what to do and leaves
# no source behind (a dead source would fail every other step's apt-get
# update). PACKAGES: `name=version` words.
repo=google-cloud
tag=hybrid-gcloud
case "$AIHPC_ACTION" in
  apply)
    : "${REPO:?}" "${PACKAGES:?}" "${KEY_PATH:?}"
    [ -n "${FINGERPRINTS:-}" ] || aihpc_die "no key fingerprints for Google's apt repository: set gcp.hybrid.gcloudCli.keyFingerprints"
    keyring="/etc/apt/keyrings/aihpc-$repo.gpg"
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
    aihpc_apt_repo "$repo" "$REPO/$KEY_PATH" "$FINGERPRINTS" "${KEY_SHA256:-}" gcp.hybrid.gcloudCli "$want_list" "$want_pin"
    current=1
    for p in $PACKAGES; do
      [ "$(dpkg-query -W -f='${Version}' "${p%%=*}" 2>/dev/null || true)" = "${p#*=}" ] || current=0
    done
    if [ "$current" = 0 ]; then
      aihpc_apt_install "$tag" "${names[@]}"
      # Already installed at another version: move to the pin.
      aihpc_apt_retry install --allow-downgrades --no-install-recommends "${names[@]}" >&2 ||
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
    aihpc_apt_repo_remove "$repo"
    ;;
esac
aihpc_done
