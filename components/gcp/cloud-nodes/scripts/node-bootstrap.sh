#!/bin/bash
# Startup script of a cloud node (gcp.cloudNodes), run as root by Google's
# guest agent on every boot of a Debian 12 instance from the stack's template:
# the workstation's Slurm packages from Debian bookworm (so versions match by
# construction), the NVIDIA driver from bookworm's non-free, the cluster's
# munge key from Secret Manager (the node's own service account, no key
# file), then slurmd in configless mode against the workstation's controller.
# Settings come from the instance's metadata, not from this text, so the
# template changes only when the script does.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
MD=http://metadata.google.internal/computeMetadata/v1

md() { curl -fsS --retry 5 -H 'Metadata-Flavor: Google' "$MD/$1"; }
log() { echo "aihpc-cloud-node: $*"; logger -t aihpc-cloud-node -- "$*" || true; }

# slurm.conf names the controller as the workstation's hosts reach it ($1); this node reaches it only at the conf
# server's address ($2, the tunnel's). Map the one to the other, so the workstation's hosts keep theirs: an address
# by NAT of this node's own traffic, a name in the hosts file ($3, default /etc/hosts).
map_controller() {
  local ctl=$1 conf=$2 hosts=${3:-/etc/hosts}
  [ -n "$ctl" ] && [ "$ctl" != "$conf" ] || return 0
  if [[ $ctl =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
    # Declare, delete and define in one transaction: the same table every boot, never two rules.
    nft -f - <<NFT
table ip aihpc_controller
delete table ip aihpc_controller
table ip aihpc_controller {
  chain output {
    type nat hook output priority -100; policy accept;
    ip daddr ${ctl} dnat to ${conf}
  }
}
NFT
  else
    sed -i '/# aihpc-controller$/d' "$hosts"
    echo "${conf} ${ctl} # aihpc-controller" >>"$hosts"
  fi
  log "slurmctld's address in slurm.conf, ${ctl}, is reached at ${conf}"
}

# Sourced (the unit tests), the script stops here: only the functions above.
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

SECRET=$(md instance/attributes/aihpc-munge-secret)
CONF_SERVER=$(md instance/attributes/aihpc-conf-server)
GPU=$(md instance/attributes/aihpc-gpu)
# What slurm.conf's SlurmctldHost names (the controller's workstation address or name); absent: the conf server's.
CTL_SLURM=$(md instance/attributes/aihpc-controller-slurm-address 2>/dev/null || true)

# 1. Packages: Slurm and munge as on the workstation's compute hosts; the driver where the node has GPUs.
pkgs=(munge slurm-client slurmd python3 curl ca-certificates nftables)
if [ "$GPU" = 1 ]; then
  # contrib/non-free for the driver and the NVML GRES plugin (bookworm ships 535.x, enough for L4, A100 and H100).
  sed -i 's/^Components: main.*/Components: main contrib non-free non-free-firmware/' /etc/apt/sources.list.d/debian.sources
  pkgs+=("linux-headers-$(uname -r)" nvidia-driver firmware-misc-nonfree slurm-wlm-nvml-plugin)
fi
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  log "installed ${missing[*]}"
fi
if [ "$GPU" = 1 ] && ! nvidia-smi -L >/dev/null 2>&1; then
  modprobe nvidia || { log "the NVIDIA driver does not load"; exit 1; }
fi

# 2. slurm.conf's controller address, reached at the conf server's.
map_controller "$CTL_SLURM" "${CONF_SERVER%:*}"

# 3. The munge key, from Secret Manager with the node's service account token.
token=$(md instance/service-accounts/default/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
umask 077
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# The token goes to curl in a config on stdin, never on the command line.
printf 'header = "Authorization: Bearer %s"\n' "$token" |
  curl -fsS --retry 5 -K - "https://secretmanager.googleapis.com/v1/${SECRET}/versions/latest:access" |
  python3 -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(sys.stdin)["payload"]["data"]))' >"$tmp"
[ -s "$tmp" ] || { log "the munge key secret is empty"; exit 1; }
if ! cmp -s "$tmp" /etc/munge/munge.key; then
  install -d -m 0700 -o munge -g munge /etc/munge
  install -m 0400 -o munge -g munge "$tmp" /etc/munge/munge.key
  systemctl restart munge
  log "installed the cluster munge key"
fi
systemctl enable --now munge

# 4. slurmd, configless: slurm.conf, gres.conf and cgroup.conf come from slurmctld.
install -d -m 0755 /etc/systemd/system/slurmd.service.d /var/lib/slurm/slurmd /var/log/slurm
chown slurm:slurm /var/log/slurm
cat >/etc/default/slurmd <<CONF
SLURMD_OPTIONS="--conf-server ${CONF_SERVER}"
CONF
cat >/etc/systemd/system/slurmd.service.d/aihpc-configless.conf <<'CONF'
[Unit]
# Configless: no local slurm.conf to wait for.
ConditionPathExists=
[Service]
EnvironmentFile=-/etc/default/slurmd
CONF
systemctl daemon-reload
systemctl enable slurmd
systemctl restart slurmd
log "slurmd started against ${CONF_SERVER}"
