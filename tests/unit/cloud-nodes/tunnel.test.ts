// The cloud partition's WireGuard tunnel (gcp.cloudNodes.tunnel) under
// Pulumi's mocks: the key arithmetic, both ends' configurations, the gateway
// VM, its key secret, route and firewall, the controller's two steps, the
// controller's address as slurm.conf names it and nodes map it, and the
// teardown edges.
import * as fs from "fs";
import { GATEWAY_BOOTSTRAP } from "../../../components/gcp/cloud-nodes/gateway";
import { controllerWgConf, gatewayWgConf, isWgKey, wgPrivateKey, wgPublicKey, wgPublicKeyFromStdout } from "../../../components/hybrid/cloud-nodes/wireguard";
import { twoHosts, withGcp } from "../../helpers/fixtures";
import { factsHook } from "../workstation/facts";
import { stepReceived } from "../../helpers/steps";
import { containsSecret, Recorded, reveal, runProgram } from "../../helpers/harness";

const SA = (id: string) => `serviceAccount:aihpc-test-${id}@test-project-1.iam.gserviceaccount.com`;
const EGRESS = "198.51.100.7/32";

function withCloud(over: Record<string, any> = {}, base?: Record<string, any>): Record<string, any> {
    const raw = withGcp(base);
    raw.gcp.cloudNodes = { enabled: true, zones: ["europe-west4-a", "europe-west4-b"], tunnel: { workstationEgressCidr: EGRESS }, ...over };
    return raw;
}

describe("WireGuard keys and configurations", () => {
    test("the public key of a private key is X25519's (RFC 7748's test vector), base64 as wg prints it", () => {
        const alice = Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex").toString("base64");
        expect(wgPublicKey(alice)).toBe(Buffer.from("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", "hex").toString("base64"));
        // Clamping as `wg genkey` does changes the bytes, never the public key.
        const clamped = wgPrivateKey(alice);
        expect(clamped).not.toBe(alice);
        expect(wgPublicKey(clamped)).toBe(wgPublicKey(alice));
        const raw = Buffer.from(clamped, "base64");
        expect([raw[0] & 7, raw[31] & 128, raw[31] & 64]).toEqual([0, 0, 64]);
        expect([isWgKey(clamped), isWgKey(wgPublicKey(clamped)), isWgKey("not-a-key"), isWgKey(Buffer.alloc(31).toString("base64"))]).toEqual([true, true, false, false]);
        expect(() => wgPrivateKey(Buffer.alloc(16).toString("base64"))).toThrow("a WireGuard private key is 32 bytes, got 16");
    });

    test("the controller's public key is read from its step's output, and a missing one says where to look", () => {
        const k = wgPublicKey(wgPrivateKey(Buffer.alloc(32, 1).toString("base64")));
        expect(wgPublicKeyFromStdout(`aihpc: installed wireguard-tools\nAIHPC-WG-PUBLIC-KEY ${k}\naihpc: changed`, "ws1")).toBe(k);
        expect(() => wgPublicKeyFromStdout("aihpc: unchanged", "ws1")).toThrow("the tunnel key step of host ws1 printed no WireGuard public key: see its output (aihpc: unchanged)");
        expect(() => wgPublicKeyFromStdout("AIHPC-WG-PUBLIC-KEY abc", "ws1")).toThrow(/printed no WireGuard public key/);
    });

    test("both ends' configurations: no private key in either; the controller dials out with keepalives and listens on no fixed port", () => {
        const ctl = controllerWgConf({ iface: "aihpc-wg", address: "10.99.0.1", gatewayPublicKey: "G".repeat(43) + "=", endpoint: "203.0.113.10:51820", allowedIps: ["10.99.0.0/24", "10.20.0.0/24"], keepalive: 25 });
        expect(ctl.split("\n").filter((l) => !l.startsWith("#"))).toEqual([
            "[Interface]",
            "Address = 10.99.0.1/32",
            "PostUp = wg set %i private-key /etc/wireguard/aihpc-wg.key",
            "",
            "[Peer]",
            `PublicKey = ${"G".repeat(43)}=`,
            "Endpoint = 203.0.113.10:51820",
            "AllowedIPs = 10.99.0.0/24, 10.20.0.0/24",
            "PersistentKeepalive = 25",
        ]);
        const gw = gatewayWgConf({ iface: "aihpc-wg", address: "10.99.0.2", port: 51820, controllerPublicKey: "C".repeat(43) + "=", controllerAddress: "10.99.0.1" });
        expect(gw.split("\n").filter((l) => !l.startsWith("#"))).toEqual([
            "[Interface]",
            "Address = 10.99.0.2/32",
            "ListenPort = 51820",
            "PostUp = wg set %i private-key /etc/wireguard/aihpc-wg.key",
            "",
            "[Peer]",
            `PublicKey = ${"C".repeat(43)}=`,
            "AllowedIPs = 10.99.0.1/32",
        ]);
        for (const c of [ctl, gw]) expect(c).not.toMatch(/PrivateKey\s*=/);
    });
});

describe("the tunnel in the plan", () => {
    let up: Recorded;
    let off: Recorded;
    beforeAll(async () => {
        // Two hosts: the controller's tunnel is the cluster's only path to the cloud; ws2 keeps reaching slurmctld on the LAN.
        up = await runProgram(withCloud({}, twoHosts()), { preview: false, newResource: factsHook() });
        off = await runProgram(withCloud({ tunnel: { enabled: false } }, twoHosts()), { preview: false, newResource: factsHook() });
    }, 180_000);

    const controllerKey = () => wgPublicKeyFromStdout(String(up.named("hybrid-tunnel-key-ws1").state.stdout), "ws1");
    const gatewayPrivate = () => String(reveal(up.inputsOf("gcp-secrets-wg-gateway-key-v").secretData));

    test("the gateway VM: Debian 12, e2-micro, forwarding, the static address, its own account, Secure Boot, OS Login", () => {
        const i = up.inputsOf("gcp-tunnel-vm");
        expect(i).toMatchObject({
            name: "aihpc-test-wg-gw",
            zone: "europe-west4-a",
            machineType: "e2-micro",
            canIpForward: true,
            bootDisk: { autoDelete: true, initializeParams: { image: "projects/debian-cloud/global/images/family/debian-12", size: 10 } },
            serviceAccount: { email: "aihpc-test-wg-gw@test-project-1.iam.gserviceaccount.com" },
            shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
            tags: ["aihpc-tunnel-gateway"],
            metadata: { "aihpc-wg-interface": "aihpc-wg", "enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE" },
        });
        const ip = up.named("gcp-tunnel-ip").state.address;
        expect(up.inputsOf("gcp-tunnel-ip")).toMatchObject({ addressType: "EXTERNAL", region: "europe-west4", name: "aihpc-test-wg-gw-ip" });
        expect(i.networkInterfaces).toEqual([expect.objectContaining({ accessConfigs: [{ natIp: ip, networkTier: "PREMIUM" }] })]);
        expect(i.metadata["startup-script"]).toBe(fs.readFileSync(GATEWAY_BOOTSTRAP, "utf8"));
        // Not the cloud nodes' prefix: neither the reconciler nor the controller's launcher role may touch it.
        expect(i.name.startsWith("aihpc-test-cn-")).toBe(false);
    });

    test("keys: the gateway's private key only in its secret (read by the gateway's account only); its configuration names the controller's public key", () => {
        const key = gatewayPrivate();
        expect(isWgKey(key)).toBe(true);
        expect(containsSecret(up.named("gcp-secrets-wg-gateway-key-v").inputs.secretData)).toBe(true);
        const md = up.inputsOf("gcp-tunnel-vm").metadata;
        expect(md["aihpc-wg-key-secret"]).toBe("projects/123456789012/secrets/aihpc-test-wg-gateway-key");
        expect(md["aihpc-wg-conf"]).toBe(gatewayWgConf({ iface: "aihpc-wg", address: "10.99.0.2", port: 51820, controllerPublicKey: controllerKey(), controllerAddress: "10.99.0.1" }));
        // No private key anywhere but the secret's version: not in metadata, outputs or any step.
        for (const r of up.resources.filter((x) => x.name !== "gcp-secrets-wg-gateway-key-v" && x.name !== "gcp-wg-gateway-key")) {
            expect([r.name, JSON.stringify(reveal(r.inputs)).includes(key)]).toEqual([r.name, false]);
        }
        expect(JSON.stringify(up.outputs)).not.toContain(key);
        const readers = up.resources.filter((r) => r.type.startsWith("gcp:secretmanager/secretIam") && r.name.startsWith("gcp-secrets-wg-gateway-key-iam"));
        expect(readers.map((r) => [up.inputsOf(r.name).role, up.inputsOf(r.name).members])).toEqual([["roles/secretmanager.secretAccessor", [SA("wg-gw")]]]);
        expect(up.ofType("gcp:projects/iAMMember:IAMMember").filter((r) => up.inputsOf(r.name).member === SA("wg-gw")).map((r) => up.inputsOf(r.name).role)).toEqual(["roles/logging.logWriter"]);
        // The deployer may create the VM that runs as it; nobody else may act as it.
        expect(up.inputsOf("gcp-identity-wg-gw-iam-iam-serviceaccountuser").members).toEqual([SA("ci-deploy")]);
        expect((up.outputs.gcp as any).cloudNodes.tunnel).toEqual({
            endpoint: `${up.named("gcp-tunnel-ip").state.address}:51820`,
            gatewayPublicKey: wgPublicKey(key),
            gateway: up.named("gcp-tunnel-vm").state.selfLink,
            keySecret: "projects/123456789012/secrets/aihpc-test-wg-gateway-key",
        });
    });

    test("a new configuration (the controller's key after its host was rebuilt) replaces the gateway, which reads it at boot; name fixed, so delete first", () => {
        expect(up.named("gcp-tunnel-vm").options).toMatchObject({ replaceOnChanges: ['metadata["aihpc-wg-conf"]', 'metadata["startup-script"]'], deleteBeforeReplace: true });
        // Nothing else of the tunnel is replaced with it: the static address stays, so the controller's endpoint does.
        for (const n of ["gcp-tunnel-ip", "gcp-tunnel-wg-gw-udp"]) expect([n, up.named(n).options.replaceOnChanges]).toEqual([n, []]);
    });

    test("the route sends the tunnel's range from cloud nodes to the gateway; the firewall opens one UDP port to the egress address and Slurm's ports from nodes", () => {
        expect(up.inputsOf("gcp-tunnel-route")).toMatchObject({
            destRange: "10.99.0.0/24",
            nextHopInstance: up.named("gcp-tunnel-vm").state.selfLink,
            nextHopInstanceZone: "europe-west4-a",
            tags: ["aihpc-cloud-node"],
            // A new gateway (below) gets a new route: the description names the instance's id.
            description: `aihpc: the tunnel's addresses (the Slurm controller) through the gateway (instance ${up.named("gcp-tunnel-vm").state.instanceId})`,
        });
        const fw = up.ofType("gcp:compute/firewall:Firewall").filter((r) => r.name.startsWith("gcp-tunnel-")).map((r) => up.inputsOf(r.name));
        expect(fw).toEqual([
            expect.objectContaining({ name: "aihpc-test-wg-gw-udp", direction: "INGRESS", sourceRanges: [EGRESS], targetTags: ["aihpc-tunnel-gateway"], allows: [{ protocol: "udp", ports: ["51820"] }] }),
            expect.objectContaining({ name: "aihpc-test-wg-gw-fwd", direction: "INGRESS", sourceTags: ["aihpc-cloud-node"], targetTags: ["aihpc-tunnel-gateway"], allows: [{ protocol: "tcp", ports: ["6817", "60001-63000"] }] }),
        ]);
        for (const f of fw) expect(f.sourceRanges ?? []).not.toContain("0.0.0.0/0");
    });

    test("the controller: its key step first (the gateway names its public key), then its tunnel step with the gateway's address and key; no secret on either", () => {
        const key = up.named("hybrid-tunnel-key-ws1");
        const got = stepReceived(up.inputsOf(key.name));
        expect(got.vars.INTERFACE).toBe("aihpc-wg");
        expect(got.stdin).toBeUndefined();
        expect(up.named("gcp-tunnel-vm").dependencies).toContain(key.urn);
        const tunnel = up.named("hybrid-tunnel-ws1");
        for (const n of ["hybrid-tunnel-key-ws1", "gcp-tunnel-vm", "gcp-tunnel-ip"]) expect([n, tunnel.dependencies.includes(up.named(n).urn)]).toEqual([n, true]);
        const t = stepReceived(up.inputsOf(tunnel.name));
        expect(t.stdin).toBeUndefined();
        expect(t.vars.WG_CONF).toBe(
            controllerWgConf({
                iface: "aihpc-wg",
                address: "10.99.0.1",
                gatewayPublicKey: wgPublicKey(gatewayPrivate()),
                endpoint: `${up.named("gcp-tunnel-ip").state.address}:51820`,
                allowedIps: ["10.99.0.0/24", "10.20.0.0/24"],
                keepalive: 25,
            }),
        );
        expect(up.inputsOf(tunnel.name).create).not.toContain("PublicKey");
        expect(up.inputsOf(tunnel.name).delete).toMatch(/^AIHPC_ACTION='delete' .*INTERFACE='aihpc-wg' .*tunnel\.sh$/);
        expect(up.inputsOf(key.name).delete).toMatch(/^AIHPC_ACTION='delete' .*INTERFACE='aihpc-wg' .*tunnel-key\.sh$/);
    });

    test("slurm.conf keeps the controller's own address on every host; nodes fetch their config at its tunnel address and map the one to the other", () => {
        for (const h of ["ws1", "ws2"]) {
            expect([h, stepReceived(up.inputsOf(`ws-slurm-${h}-config`)).vars.SLURM_CONF]).toEqual([h, expect.stringMatching(/\nSlurmctldHost=[a-z0-9-]+\(10\.0\.0\.11\)\n/)]);
        }
        // The tunnel changes nothing in slurm.conf: turning it on or off restarts no daemon of the workstation.
        expect(stepReceived(up.inputsOf("ws-slurm-ws1-config")).vars.SLURM_CONF).toBe(stepReceived(off.inputsOf("ws-slurm-ws1-config")).vars.SLURM_CONF);
        const md = up.inputsOf(up.ofType("gcp:compute/instanceTemplate:InstanceTemplate")[0].name).metadata;
        expect([md["aihpc-conf-server"], md["aihpc-controller-slurm-address"]]).toEqual(["10.99.0.1:6817", "10.0.0.11"]);
        // So the workstation's Slurm never waits for, nor depends on, the tunnel.
        for (const h of ["ws1", "ws2"]) expect([h, up.named(`ws-slurm-${h}-config`).dependencies.filter((d) => d.includes("tunnel"))]).toEqual([h, []]);
    });

    test("teardown order: the cloud nodes go before the tunnel, the tunnel before the gateway, the gateway before its key, account and network", () => {
        expect(up.named("hybrid-cloud-nodes-ws1").dependencies).toContain(up.named("hybrid-tunnel-ws1").urn);
        for (const c of ["gcp-tunnel-vm", "gcp-tunnel-route", "gcp-tunnel-wg-gw-udp", "gcp-tunnel-ip"]) {
            const deps = up.named(c).dependencies;
            for (const n of ["gcp-identity-wg-gw", "gcp-secrets-wg-gateway-key", "gcp-secrets-wg-gateway-key-iam-secretmanager-secretaccessor", "gcp-network-subnet"]) {
                expect([c, n, deps.includes(up.named(n).urn)]).toEqual([c, n, true]);
            }
        }
    });

    test("off: no gateway, key, route, secret, account or controller step", () => {
        expect(off.resources.filter((r) => /^(gcp-tunnel|hybrid-tunnel|gcp-wg-gateway-key|gcp-secrets-wg-)/.test(r.name) || r.name === "gcp-identity-wg-gw").map((r) => r.name)).toEqual([]);
        expect((off.outputs.gcp as any).cloudNodes.tunnel).toBeUndefined();
    });
});
