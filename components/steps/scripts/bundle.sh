#!/usr/bin/env bash
# Install the step bundle (components/steps/bundle.ts) under /var/lib/aihpc/bundle: check
# the copied archive's sha256, unpack it, keep the entries of the last three
# versions (the delete commands of steps in Pulumi's state may name an older
# one). Runs on its own (no lib.sh: that arrives in the bundle). Teardown is
# the one-line delete command in host/index.ts.
set -euo pipefail
umask 022
root="${AIHPC_BUNDLE_ROOT:-/var/lib/aihpc/bundle}" # another root only in tests
versions="$root/.versions"
keep=3
die() {
  printf 'aihpc: error: %s\n' "$*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || die "the step bundle must be installed as root: connect as root or allow passwordless sudo"

case "${AIHPC_ACTION:-apply}" in
  apply)
    : "${BUNDLE_TAR:?}" "${BUNDLE_SHA256:?}" "${REMOVE_TAR:?}"
    [[ "$BUNDLE_SHA256" =~ ^[0-9a-f]{64}$ ]] || die "bad bundle sha256 '$BUNDLE_SHA256'"
    manifest="$versions/$BUNDLE_SHA256"
    complete=0
    if [ -f "$manifest" ]; then
      complete=1
      while read -r entry; do [ -f "$root/$entry" ] || complete=0; done <"$manifest"
    fi
    if [ "$complete" = 1 ]; then
      if [ "$REMOVE_TAR" = 1 ]; then rm -f "$BUNDLE_TAR"; fi
      echo "aihpc: unchanged"
      exit 0
    fi
    [ -f "$BUNDLE_TAR" ] || die "the step bundle $BUNDLE_TAR is missing on $(hostname): run \`pulumi up\` again (it copies the bundle first)"
    got="$(sha256sum "$BUNDLE_TAR" | cut -d' ' -f1)"
    [ "$got" = "$BUNDLE_SHA256" ] || die "the step bundle $BUNDLE_TAR has sha256 $got, expected $BUNDLE_SHA256: not unpacking it; run \`pulumi up\` again"
    install -d -m 0755 "$root" "$versions"
    tar -xzf "$BUNDLE_TAR" -C "$root" --no-same-owner --no-same-permissions
    tar -tzf "$BUNDLE_TAR" | grep -v '/$' | sort >"$manifest.tmp"
    mv -f "$manifest.tmp" "$manifest"
    # Newest last; forget all but the last $keep versions, then their files.
    touch "$versions/order"
    { grep -vx "$BUNDLE_SHA256" "$versions/order" || true; echo "$BUNDLE_SHA256"; } >"$versions/order.tmp"
    mv -f "$versions/order.tmp" "$versions/order"
    while [ "$(wc -l <"$versions/order")" -gt "$keep" ]; do
      rm -f "$versions/$(head -n1 "$versions/order")"
      sed -i 1d "$versions/order"
    done
    find "$root" -mindepth 1 -maxdepth 1 -type d ! -name .versions -printf '%f\n' | sort >"$versions/present.tmp"
    while read -r v; do sed 's|/.*||' "$versions/$v"; done <"$versions/order" | sort -u >"$versions/kept.tmp"
    comm -23 "$versions/present.tmp" "$versions/kept.tmp" | while read -r d; do rm -rf "${root:?}/$d"; done
    rm -f "$versions/present.tmp" "$versions/kept.tmp"
    if [ "$REMOVE_TAR" = 1 ]; then rm -f "$BUNDLE_TAR"; fi
    echo "aihpc: installed the step bundle ${BUNDLE_SHA256:0:16} in $root"
    echo "aihpc: changed"
    ;;
esac
