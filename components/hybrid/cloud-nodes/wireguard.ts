// The WireGuard tunnel of the cloud partition (gcp.cloudNodes.tunnel): the
// key arithmetic and both ends' wg-quick configurations, pure so that the
// exact text each end gets is unit-tested and shown in the plan. Neither
// configuration holds a private key: each end reads its own from a 0600
// file (PostUp), so both texts are public.
import * as crypto from "crypto";

/** Where an end keeps its private key (0600, root): the controller makes its own; the gateway's comes from Secret Manager. */
export function wgKeyFile(iface: string): string {
    return `/etc/wireguard/${iface}.key`;
}

/** wg-quick's configuration path for an interface. */
export function wgConfFile(iface: string): string {
    return `/etc/wireguard/${iface}.conf`;
}

const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** Whether a string is a WireGuard key as `wg` prints one: 32 bytes, base64. */
export function isWgKey(s: string): boolean {
    return WG_KEY.test(s);
}

/** 32 random bytes (base64) as a Curve25519 private key, clamped as `wg genkey` does (what `wg show` prints back). */
export function wgPrivateKey(randomBase64: string): string {
    const k = Buffer.from(randomBase64, "base64");
    if (k.length !== 32) throw new Error(`a WireGuard private key is 32 bytes, got ${k.length}`);
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    return k.toString("base64");
}

// PKCS#8 DER header of an X25519 private key (RFC 8410): what node's crypto imports.
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");

/** The public key of a WireGuard private key (`wg pubkey`), with node's X25519. */
export function wgPublicKey(privateBase64: string): string {
    const k = Buffer.from(privateBase64, "base64");
    if (k.length !== 32) throw new Error(`a WireGuard private key is 32 bytes, got ${k.length}`);
    const key = crypto.createPrivateKey({ key: Buffer.concat([X25519_PKCS8, k]), format: "der", type: "pkcs8" });
    const x = crypto.createPublicKey(key).export({ format: "jwk" }).x;
    if (!x) throw new Error("X25519: no public key");
    return Buffer.from(x, "base64url").toString("base64");
}

/** The controller's public key, as its key step prints it (`AIHPC-WG-PUBLIC-KEY <key>`). */
export function wgPublicKeyFromStdout(stdout: string | undefined, host: string): string {
    const m = /^AIHPC-WG-PUBLIC-KEY (\S+)$/m.exec(stdout ?? "");
    if (!m || !isWgKey(m[1])) throw new Error(`the tunnel key step of host ${host} printed no WireGuard public key: see its output (${(stdout ?? "").slice(-400)})`);
    return m[1];
}

export interface ControllerTunnelConf {
    iface: string;
    /** The controller's tunnel address (slurm.conf's SlurmctldHost address, the nodes' --conf-server). */
    address: string;
    gatewayPublicKey: string;
    /** `<gateway's static IP>:<port>`: the controller dials out to it. */
    endpoint: string;
    /** What the controller routes into the tunnel: the tunnel's range and the nodes' subnet. */
    allowedIps: string[];
    keepalive: number;
}

/**
 * /etc/wireguard/<if>.conf on the controller. No ListenPort: it only dials
 * out (the kernel picks a source port), so nothing on the workstation's side
 * waits for a connection; PersistentKeepalive keeps its NAT's mapping open.
 */
export function controllerWgConf(c: ControllerTunnelConf): string {
    return [
        "# Managed by aihpc (gcp.cloudNodes.tunnel): the Slurm controller's tunnel to the gateway in the stack's VPC.",
        "[Interface]",
        `Address = ${c.address}/32`,
        "# The private key was made on this host and never leaves it: set from its 0600 file once the interface exists.",
        `PostUp = wg set %i private-key ${wgKeyFile(c.iface)}`,
        "",
        "[Peer]",
        "# The gateway (Compute Engine): the tunnel's only peer.",
        `PublicKey = ${c.gatewayPublicKey}`,
        `Endpoint = ${c.endpoint}`,
        `AllowedIPs = ${c.allowedIps.join(", ")}`,
        `PersistentKeepalive = ${c.keepalive}`,
    ].join("\n");
}

export interface GatewayTunnelConf {
    iface: string;
    /** The gateway's tunnel address. */
    address: string;
    port: number;
    controllerPublicKey: string;
    /** The controller's tunnel address: the only source the gateway accepts from the tunnel. */
    controllerAddress: string;
}

/**
 * /etc/wireguard/<if>.conf on the gateway. The controller's peer has no
 * Endpoint: the gateway never dials in, it answers the controller at the
 * address its packets come from.
 */
export function gatewayWgConf(c: GatewayTunnelConf): string {
    return [
        "# Managed by aihpc (gcp.cloudNodes.tunnel): the gateway's end of the Slurm controller's tunnel.",
        "[Interface]",
        `Address = ${c.address}/32`,
        `ListenPort = ${c.port}`,
        "# The private key comes from Secret Manager at boot (the startup script), into its 0600 file.",
        `PostUp = wg set %i private-key ${wgKeyFile(c.iface)}`,
        "",
        "[Peer]",
        "# The workstation's Slurm controller: it dials out to this gateway; no Endpoint, so the gateway never dials in.",
        `PublicKey = ${c.controllerPublicKey}`,
        `AllowedIPs = ${c.controllerAddress}/32`,
    ].join("\n");
}
