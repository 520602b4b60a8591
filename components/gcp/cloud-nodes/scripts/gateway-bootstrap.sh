#!/bin/bash
# Startup script of the cloud partition's tunnel gateway (gcp.cloudNodes.tunnel),
# run as root by Google's guest agent on every boot of its Debian 12 instance:
# Debian's wireguard-tools, the gateway's private key from Secret Manager (read
# with the gateway's own service account, which may read nothing else) into a
# 0600 file, the wg-quick configuration from the instance's metadata (rendered
# by Pulumi, no secret in it), IPv4 forwarding between the tunnel and the VPC,
# MSS clamping (the tunnel's MTU is smaller than the VPC's), then wg-quick@<if>.
# The workstation's controller dials in to it; it never dials out to the
# workstation. Settings come from metadata, so this text never changes with them.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
MD=http://metadata.google.internal/computeMetadata/v1

md() { curl -fsS --retry 5 --retry-connrefused -H 'Metadata-Flavor: Google' "$MD/$1"; }
log() { echo "aihpc-tunnel-gateway: $*"; logger -t aihpc-tunnel-gateway -- "$*" || true; }
die() { log "error: $*"; exit 1; }

IF=$(md instance/attributes/aihpc-wg-interface)
SECRET=$(md instance/attributes/aihpc-wg-key-secret)
CONF=$(md instance/attributes/aihpc-wg-conf)
[[ "$IF" =~ ^[a-z][a-z0-9-]{0,14}$ ]] || die "metadata aihpc-wg-interface '$IF' is not an interface name"

# 1. Packages (the kernel's WireGuard; Debian's userspace wireguard-go only where the kernel has none).
pkgs=(wireguard-tools nftables curl ca-certificates python3)
if ! ip link show "$IF" >/dev/null 2>&1; then
  if ip link add dev aihpc-wgprobe type wireguard 2>/dev/null; then ip link delete dev aihpc-wgprobe; else pkgs+=(wireguard-go); fi
fi
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  log "installed ${missing[*]}"
fi

# 2. The private key, from Secret Manager with the gateway's service account token.
changed=0
umask 077
install -d -m 0700 /etc/wireguard
tmp=$(mktemp /etc/wireguard/.aihpc.XXXXXX)
trap 'rm -f "$tmp"' EXIT
token=$(md instance/service-accounts/default/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# The token goes to curl in a config on stdin, never on the command line; the key only into the 0600 file.
printf 'header = "Authorization: Bearer %s"\n' "$token" |
  curl -fsS --retry 5 -K - "https://secretmanager.googleapis.com/v1/${SECRET}/versions/latest:access" |
  python3 -c 'import base64,json,sys; sys.stdout.write(base64.b64decode(json.load(sys.stdin)["payload"]["data"]).decode().strip() + "\n")' >"$tmp"
grep -Eq '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$' "$tmp" || die "the key secret ${SECRET} holds no WireGuard key"
if ! cmp -s "$tmp" "/etc/wireguard/$IF.key"; then
  install -m 0600 -o root -g root "$tmp" "/etc/wireguard/$IF.key"
  changed=1
  log "installed the gateway's private key"
fi

# 3. The configuration: exactly the metadata's text.
printf '%s\n' "$CONF" >"$tmp"
if ! cmp -s "$tmp" "/etc/wireguard/$IF.conf"; then
  install -m 0600 -o root -g root "$tmp" "/etc/wireguard/$IF.conf"
  changed=1
  log "wrote /etc/wireguard/$IF.conf"
fi

# 4. Forwarding between the tunnel and the VPC (the instance has can_ip_forward), and MSS clamping.
printf 'net.ipv4.ip_forward = 1\n' >/etc/sysctl.d/60-aihpc-tunnel-gateway.conf
sysctl -q -w net.ipv4.ip_forward=1
cat >/etc/nftables-aihpc-tunnel.nft <<'NFT'
table inet aihpc_tunnel
delete table inet aihpc_tunnel
table inet aihpc_tunnel {
  chain forward {
    type filter hook forward priority mangle; policy accept;
    # The tunnel's MTU is below the VPC's 1460: TCP through it gets a segment size that fits.
    tcp flags syn tcp option maxseg size set rt mtu
  }
}
NFT
nft -f /etc/nftables-aihpc-tunnel.nft || log "warning: nft refused the MSS clamping table (TCP through the tunnel relies on path MTU discovery)"

# 5. The tunnel.
systemctl enable --quiet "wg-quick@$IF"
if [ "$changed" = 1 ] || ! systemctl is-active --quiet "wg-quick@$IF"; then
  systemctl restart "wg-quick@$IF"
fi
wg show "$IF" >/dev/null || die "wg-quick@$IF did not bring up $IF"
log "tunnel $IF up, listening for the controller"
