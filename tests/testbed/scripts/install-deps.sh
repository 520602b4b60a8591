#!/usr/bin/env bash
# Installs the host packages the testbed needs; does nothing when all are present.
set -euo pipefail

# qemu-system-x86, qemu-utils, e2fsprogs, fdisk (sfdisk): VM test hosts (vm.ts, build-vm-image.sh).
PKGS=(debootstrap systemd-container openssh-client iproute2 tinyproxy util-linux qemu-system-x86 qemu-utils e2fsprogs fdisk)

missing=()
for p in "${PKGS[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "testbed deps: all present"
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "testbed deps: missing ${missing[*]}; run as root" >&2
  exit 1
fi

echo "testbed deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends: tinyproxy/systemd-container must not pull in services we do not use.
apt-get install -y -qq --no-install-recommends "${missing[@]}"
