#!/usr/bin/env bash
# The Google Cloud CLI (gcloud, gsutil, docker-credential-gcloud) and, with
# PACKAGES naming it, Cloud Storage FUSE, from Google's apt repository or a
# mirror of it (REPO), each pinned to one version. The repository REPO_NAME
# through lib.sh aihpc_apt_repo: its key (REPO/KEY_PATH) verified against the
# pinned fingerprint set (FINGERPRINTS, KEY_SHA256 when set) before it is
# trusted, with apt's downloader (workstation.aptProxy applies); SOURCE and
# PIN rendered in hybrid/identity/files.ts. When the repository is out of
# reach the step fails saying what to do and leaves no source behind (a dead
# source would fail every other step's apt-get update). PACKAGES:
# `name=version` words, installed through aihpc_apt_install_pinned.
: "${REPO_NAME:?}"
repo="$REPO_NAME"
tag=hybrid-gcloud
case "$AIHPC_ACTION" in
  apply)
    : "${REPO:?}" "${PACKAGES:?}" "${KEY_PATH:?}" "${SOURCE:?}" "${PIN:?}"
    [ -n "${FINGERPRINTS:-}" ] || aihpc_die "no key fingerprints for Google's apt repository: set gcp.hybrid.gcloudCli.keyFingerprints"
    aihpc_apt_repo "$repo" "$REPO/$KEY_PATH" "$FINGERPRINTS" "${KEY_SHA256:-}" gcp.hybrid.gcloudCli "$SOURCE" "$PIN"
    read -r -a pkgs <<<"$PACKAGES"
    aihpc_apt_install_pinned "$tag" "is that version published at $REPO?" "${pkgs[@]}"
    ;;
  delete)
    aihpc_apt_remove "$tag"
    aihpc_apt_repo_remove "$repo"
    ;;
esac
aihpc_done
