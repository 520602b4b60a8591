#!/usr/bin/env bash
# The controller's WireGuard key for the cloud partition's tunnel
# (gcp.cloudNodes.tunnel): Debian's wireguard-tools, Debian's userspace
# wireguard-go where the kernel cannot make a WireGuard interface (a
# container, an LXC guest; wg-quick then uses it by itself), and a private
# key made here by `wg genkey` (0600, root) that never leaves the host. Prints
# the public key (AIHPC-WG-PUBLIC-KEY) for the gateway's configuration.
# Apply and delete: INTERFACE.
: "${INTERFACE:?}"
key="/etc/wireguard/$INTERFACE.key"
case "$AIHPC_ACTION" in
  apply)
    aihpc_apt_install cloud-tunnel wireguard-tools
    if ip link add dev aihpc-wgprobe type wireguard 2>/dev/null; then
      ip link delete dev aihpc-wgprobe
    else
      [ -c /dev/net/tun ] ||
        aihpc_die "this kernel has no WireGuard and there is no /dev/net/tun for Debian's userspace wireguard-go: load the wireguard module, or give the host a TUN device"
      if ! aihpc_installed wireguard-go; then
        aihpc_apt_install cloud-tunnel wireguard-go
        aihpc_log "the kernel has no WireGuard: wg-quick will use Debian's userspace wireguard-go"
      fi
    fi
    if [ ! -d /etc/wireguard ]; then
      install -d -m 0700 /etc/wireguard
      aihpc_mark_changed
    fi
    if [ ! -s "$key" ]; then
      (umask 077 && wg genkey >"$key.tmp")
      mv -f "$key.tmp" "$key"
      aihpc_log "made the tunnel's private key $key (it stays on this host)"
      aihpc_mark_changed
    fi
    if [ "$(stat -c '%a %U:%G' "$key")" != "600 root:root" ]; then
      chown root:root "$key"
      chmod 0600 "$key"
      aihpc_log "made $key 0600 root"
      aihpc_mark_changed
    fi
    # The key goes to wg on stdin, never as an argument.
    pub="$(wg pubkey <"$key")"
    echo "AIHPC-WG-PUBLIC-KEY $pub"
    ;;
  delete)
    aihpc_rm "$key"
    aihpc_apt_remove cloud-tunnel
    ;;
esac
aihpc_done
