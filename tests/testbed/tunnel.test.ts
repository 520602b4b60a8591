// Issue 15, item 3: the cloud partition's network path on real hosts, without
// Google Cloud. The `gcp` stack's program with gcp.cloudNodes and its tunnel
// on is applied through the executor to a booted controller (ws1): the
// stack's own steps make the controller's WireGuard key and bring up its
// wg-quick unit, dialling out to the gateway. The gateway is booted from the
// stack's own gcp.compute.Instance (its metadata, its startup script) by the
// stand-in compute API, reads its private key from the stand-in Secret
// Manager with its instance token, and forwards. A cloud node, resumed by
// Slurm through the same stand-in, reaches slurmctld only at the
// controller's tunnel address through the gateway (slurm.conf's controller
// address, ws1's own, is mapped to it on the node), registers from its "VPC"
// address (which the controller reaches only through the tunnel) and runs a
// job. A second workstation host (ws2) keeps reaching slurmctld at ws1's own
// address: the tunnel changes nothing for the workstation's hosts.
//
// The network as the test hosts model it: every host sits on the testbed
// bridge (10.213.0.0/24), standing in for the internet between the
// workstation and Google. The gateway also holds its "static external IP"
// (the plan's mock address, from TEST-NET-3), which ws1 reaches through the
// bridge. Instances get a "VPC" address in gcp.network.subnetCidr
// (10.20.0.0/24) and the VPC route's effect (tunnelCidr via the gateway); the
// gateway routes each node's VPC address to it. This machine's kernel has no
// WireGuard module: both ends run Debian's userspace wireguard-go, which the
// stack's steps install when the kernel lacks WireGuard.
//
// Not proven here: Google's VPC route, firewall and anti-spoofing
// (can_ip_forward) themselves (the plan and the unit tests show the
// resources; here they are modelled by routes on the test hosts), the
// kernel's WireGuard (userspace here), a NAT between the workstation and the
// gateway, and the internet's MTU.
import * as http from "http";
import { bootTestbed, Testbed, TestHost, must } from "./hosts";
import { Executor, opsSummary, StateEntry } from "./executor";
import { testbedStackConfig } from "./stack-config";
import { eventually } from "./cluster";
import { ComputeApi, COMPUTE_API_URL, Instance, stackSecrets, stackTemplates, stateEntries } from "./compute-api";
import { toCliConfig } from "../helpers/harness";
import { controllerWgConf, wgPublicKey } from "../../components/hybrid/cloud-nodes/wireguard";

jest.setTimeout(1_800_000);

const log = (m: string) => process.stdout.write(`[tunnel ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const PROJECT = "test-project-1";
const STACK = "testbed";
const ZONE = "europe-west4-a";
const NODE = `aihpc-${STACK}-cn-1`;
const GATEWAY = `aihpc-${STACK}-wg-gw`;
const IF = "aihpc-wg";
const TUNNEL_CIDR = "10.99.0.0/24";
const CONTROLLER_TUNNEL = "10.99.0.1";
const SUBNET = "10.20.0.0/24";
/** The gateway's VM as the stack defined it: the stand-in boots it like an instance from a template. */
const GATEWAY_TEMPLATE = "stack:gcp-tunnel-vm";

function stackConfig(tb: Testbed, ws1: TestHost, ws2: TestHost): { config: Record<string, string>; secretKeys: string[] } {
    const { config, secretKeys } = testbedStackConfig(tb, { hosts: [ws1, ws2], monitoring: false });
    const extra = toCliConfig({
        gcp: {
            project: PROJECT,
            region: "europe-west4",
            budget: { billingAccount: "012345-6789AB-CDEF01", amount: 100 },
            hybrid: { gcloudCli: { install: false }, image: { enabled: false } },
            network: { subnetCidr: SUBNET },
            cloudNodes: {
                enabled: true,
                partition: "cloud",
                maxNodes: 1,
                machineType: "n1-standard-1",
                gpu: { type: "NVIDIA_TESLA_T4", count: 1 },
                zones: [ZONE],
                suspendTime: 600,
                resumeTimeout: 300,
                tunnelCidr: TUNNEL_CIDR,
                // TEST-NET-2: what Google would see as the workstation's source (no firewall is modelled here).
                tunnel: { workstationEgressCidr: "198.51.100.7/32", keepalive: 10 },
                backend: "testbed",
                testbedApi: COMPUTE_API_URL,
            },
        },
    });
    return { config: { ...config, ...extra.config }, secretKeys };
}

describe("the cloud partition's WireGuard tunnel (issue 15, item 3)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ws2: TestHost;
    let ex: Executor;
    let api: ComputeApi;
    const t: Record<string, number> = {};
    const mark = (k: string, t0: number) => {
        t[k] = Math.round((Date.now() - t0) / 1000);
        log(`${k}: ${t[k]} s`);
    };
    const entries = (type: string): StateEntry[] => stateEntries(ex, type);
    const entry = (name: string): StateEntry => {
        const e = Object.values(ex.state.resources).find((x) => x.name === name);
        if (!e) throw new Error(`no ${name} in the executor's state`);
        return e;
    };
    /** The gateway's "static external IP": the Address the stack made (the plan's mock value). */
    const publicIp = () => String(entry("gcp-tunnel-ip").outputs.address);
    /** Each instance's "VPC" address: the subnet's, with its bridge address's last octet. */
    const vpcAddress = (h: TestHost) => `10.20.0.${h.address.split(".")[3]}`;
    const hostOf = (name: string) => api.instances.get(name)?.host;
    const diag = async () => {
        const out: string[] = [];
        for (const [h, cmd] of [
            [ws1, `wg show ${IF}; ip route; tail -n 20 /var/log/slurm/slurmctld.log`],
            [hostOf(GATEWAY), `wg show ${IF}; ip route; journalctl -u testbed-startup-script --no-pager | tail -n 30`],
            [hostOf(NODE), "ip route; journalctl -u testbed-startup-script -u slurmd --no-pager | tail -n 30"],
        ] as [TestHost | undefined, string][]) {
            if (h) out.push(`--- ${h.name}\n${(await tb.ssh(h, cmd)).stdout}`);
        }
        return out.join("\n");
    };

    /** The VPC as routes: the gateway holds its public IP; a node sends tunnelCidr to the gateway from its VPC address. */
    async function onBoot(i: Instance): Promise<void> {
        const h = i.host!;
        if (i.name === GATEWAY) {
            await must("ip", ["-n", h.netns, "addr", "add", `${publicIp()}/32`, "dev", "eth0"]);
            await must("ip", ["-n", h.netns, "addr", "add", `${vpcAddress(h)}/32`, "dev", "eth0"]);
            // The internet's path from the workstation to the gateway's public IP.
            await must("ip", ["-n", ws1.netns, "route", "replace", `${publicIp()}/32`, "via", h.address]);
            return;
        }
        const gw = hostOf(GATEWAY);
        if (!gw) throw new Error(`instance ${i.name} booted before the gateway`);
        await must("ip", ["-n", h.netns, "addr", "add", `${vpcAddress(h)}/32`, "dev", "eth0"]);
        // The VPC route (gcp-tunnel-route): the tunnel's range via the gateway, from the node's VPC address.
        await must("ip", ["-n", h.netns, "route", "add", TUNNEL_CIDR, "via", gw.address, "src", vpcAddress(h)]);
        // The workstation's own addresses are not on a node's network: to the node, ws1's address lies behind its
        // default route (the VPC's), from its VPC address. Only the node's NAT rule sends it into the tunnel.
        await must("ip", ["-n", h.netns, "route", "add", `${ws1.address}/32`, "via", gw.address, "src", vpcAddress(h)]);
        // The subnet: the gateway reaches the node's VPC address directly.
        await must("ip", ["-n", gw.netns, "route", "replace", `${vpcAddress(h)}/32`, "via", h.address]);
    }

    beforeAll(async () => {
        const t0 = Date.now();
        tb = await bootTestbed({ names: ["ws1", "ws2"], fakeGpus: true, hostOptions: { ws1: { tun: true } }, log });
        [ws1, ws2] = tb.hosts;
        ex = new Executor({ stack: STACK, project: "aihpc", log: (m) => log(`  ${m}`) });
        api = new ComputeApi({
            tb,
            project: PROJECT,
            templates: () => ({
                ...stackTemplates(ex),
                ...(entries("gcp:compute/instance:Instance").length ? { [GATEWAY_TEMPLATE]: entry("gcp-tunnel-vm").inputs.metadata as Record<string, string> } : {}),
            }),
            secrets: () => stackSecrets(ex),
            // No GPU driver to install on a test host (cloud-nodes.test.ts says why).
            metadataOverrides: { "aihpc-gpu": "0" },
            fakeGpuFiles: ["/dev/nvidia0"],
            tun: true,
            onBoot,
            log,
        });
        await api.start();
        mark("boot the controller and start the stand-ins", t0);
    });

    afterAll(async () => {
        log(`timings (s): ${JSON.stringify(t)}`);
        await api?.stop();
        ex?.dispose();
        await tb?.destroy();
    });

    test("1. apply: the controller makes its own key (0600, only its public key leaves the host) and brings up wg-quick, dialling out", async () => {
        const t0 = Date.now();
        const { config, secretKeys } = stackConfig(tb, ws1, ws2);
        const r = await ex.apply(config, secretKeys);
        mark("apply", t0);
        log(`apply: ${opsSummary(r.ran)}${r.error ? ` -- failed: ${r.error.message.slice(0, 3000)}` : ""}`);
        if (r.error) throw r.error;
        const ran = Object.fromEntries(r.ran.map((c) => [c.name, c]));
        expect(ran["hybrid-tunnel-key-ws1"].stdout).toContain("aihpc: the kernel has no WireGuard: wg-quick will use Debian's userspace wireguard-go");
        const pub = /^AIHPC-WG-PUBLIC-KEY (\S+)$/m.exec(ran["hybrid-tunnel-key-ws1"].stdout)![1];
        expect((await tb.sshOk(ws1, `stat -c '%a %U' /etc/wireguard/${IF}.key /etc/wireguard/${IF}.conf`)).trim().split("\n")).toEqual(["600 root", "600 root"]);
        expect((await tb.sshOk(ws1, `wg pubkey < /etc/wireguard/${IF}.key`)).trim()).toBe(pub);
        // The gateway's configuration (its metadata) names that public key, and only the gateway's secret holds a private key.
        expect(entry("gcp-tunnel-vm").inputs.metadata).toMatchObject({ "aihpc-wg-interface": IF });
        expect(String((entry("gcp-tunnel-vm").inputs.metadata as Record<string, string>)["aihpc-wg-conf"])).toContain(`PublicKey = ${pub}\n`);
        const ctlKey = (await tb.sshOk(ws1, `cat /etc/wireguard/${IF}.key`)).trim();
        expect(JSON.stringify(ex.state.resources)).not.toContain(ctlKey);
        // The controller's configuration is the stack's text: the gateway's public IP and key, no private key.
        const gatewayKey = String(entry("gcp-secrets-wg-gateway-key-v").inputs.secretData);
        const conf = await tb.sshOk(ws1, `cat /etc/wireguard/${IF}.conf`);
        expect(conf.trimEnd()).toBe(
            controllerWgConf({ iface: IF, address: CONTROLLER_TUNNEL, gatewayPublicKey: wgPublicKey(gatewayKey), endpoint: `${publicIp()}:51820`, allowedIps: [TUNNEL_CIDR, SUBNET], keepalive: 10 }),
        );
        expect((await tb.sshOk(ws1, `systemctl is-active wg-quick@${IF}; systemctl is-enabled wg-quick@${IF}`)).trim().split("\n")).toEqual(["active", "enabled"]);
        expect(await tb.sshOk(ws1, `ip -4 addr show dev ${IF}`)).toContain(`inet ${CONTROLLER_TUNNEL}/32`);
        // slurm.conf names the controller by its own address on every host, as without the tunnel; ws2 (no tunnel
        // of its own) is in the cluster.
        for (const h of [ws1, ws2]) {
            expect([h.name, (await tb.sshOk(h, "grep ^SlurmctldHost= /etc/slurm/slurm.conf")).trim()]).toEqual([h.name, `SlurmctldHost=ws1(${ws1.address})`]);
        }
        expect((await tb.sshOk(ws2, `ip link show ${IF} >/dev/null 2>&1 && echo "${IF}" || echo none; ls /etc/wireguard 2>/dev/null | wc -l`)).trim().split("\n")).toEqual(["none", "0"]);
        await eventually("ws2's slurmd registered", 60_000, async () => ((await tb.sshOk(ws1, "sinfo -h -N -n ws2 -o %t")).trim() === "idle" ? true : undefined));
        // Each step again, as the provider runs it: nothing changes on the host.
        for (const n of ["hybrid-tunnel-key-ws1", "hybrid-tunnel-ws1"]) {
            const i = entry(n).inputs as { create: string; stdin?: string };
            const out = await tb.sshOk(ws1, i.create, { stdin: i.stdin });
            expect([n, out.trim().split("\n").pop()]).toEqual([n, "aihpc: unchanged"]);
        }
        expect((await tb.sshOk(ws1, `systemctl is-active wg-quick@${IF}`)).trim()).toBe("active");
        mark("apply and the steps again", t0);
    });

    test("2. the gateway boots from the stack's instance: key from Secret Manager, configuration from metadata; the controller's handshake reaches it", async () => {
        const t0 = Date.now();
        // Plain http without keep-alive: no socket of the test process outlives the stand-in.
        const status = await new Promise<number>((resolve, reject) => {
            const q = http.request(
                `${COMPUTE_API_URL}/projects/${PROJECT}/zones/${ZONE}/instances?sourceInstanceTemplate=${encodeURIComponent(GATEWAY_TEMPLATE)}`,
                { method: "POST", agent: false, headers: { "Content-Type": "application/json" } },
                (r) => {
                    r.resume();
                    r.on("end", () => resolve(r.statusCode ?? 0));
                },
            );
            q.on("error", reject);
            q.end(JSON.stringify({ name: GATEWAY }));
        });
        expect(status).toBe(200);
        await eventually("the gateway's host runs", 60_000, async () => (api.instances.get(GATEWAY)?.status === "RUNNING" ? true : undefined));
        const gw = hostOf(GATEWAY)!;
        await eventually("the controller's handshake with the gateway", 300_000, async () => {
            // Traffic into the tunnel, so the controller (re)tries its handshake now rather than at its next keepalive.
            await tb.ssh(ws1, "timeout 1 bash -c '</dev/tcp/10.99.0.2/9' 2>/dev/null; true");
            const hs = Number((await tb.sshOk(ws1, `wg show ${IF} latest-handshakes`)).trim().split(/\s+/)[1] ?? 0);
            return hs > 0 ? hs : undefined;
        }).catch(async (e) => {
            throw new Error(`${e}\n${await diag()}`);
        });
        mark("gateway boot, bootstrap and first handshake", t0);
        const gwLog = await tb.sshOk(gw, "journalctl -u testbed-startup-script --no-pager");
        expect(gwLog).toContain("aihpc-tunnel-gateway: installed the gateway's private key");
        expect(gwLog).toContain(`aihpc-tunnel-gateway: tunnel ${IF} up, listening for the controller`);
        expect((await tb.sshOk(gw, `stat -c '%a %U' /etc/wireguard/${IF}.key /etc/wireguard/${IF}.conf`)).trim().split("\n")).toEqual(["600 root", "600 root"]);
        expect((await tb.sshOk(gw, `wg show ${IF} public-key`)).trim()).toBe(wgPublicKey(String(entry("gcp-secrets-wg-gateway-key-v").inputs.secretData)));
        expect((await tb.sshOk(gw, "sysctl -n net.ipv4.ip_forward")).trim()).toBe("1");
        expect(await tb.sshOk(gw, "nft list table inet aihpc_tunnel")).toContain("tcp option maxseg size set rt mtu");
        // The controller dialled in: the gateway learnt its endpoint from its packets (its configuration names none).
        const endpoints = (await tb.sshOk(gw, `wg show ${IF} endpoints`)).trim();
        expect(endpoints).toMatch(new RegExp(`\\s${ws1.address.replace(/\./g, "\\.")}:\\d+$`));
        expect(await tb.sshOk(gw, `cat /etc/wireguard/${IF}.conf`)).not.toMatch(/^\s*Endpoint\s*=/m);
    });

    test("3. a job sent from the other workstation host runs on a cloud node, which reaches slurmctld only through the gateway and the tunnel", async () => {
        const t0 = Date.now();
        // From ws2, which has no tunnel: sbatch talks to slurmctld at ws1's own address, the cloud node through the tunnel.
        const id = (await tb.sshOk(ws2, "sbatch -p cloud --gres=gpu:1 --parsable --output=/tmp/tunnel-%j.out --wrap 'echo ran on $(hostname)'")).trim();
        const done = await eventually("the cloud job completes", 420_000, async () => {
            const out = await tb.sshOk(ws1, `scontrol -o show job ${id}`);
            const state = /\bJobState=(\S+)/.exec(out)?.[1] ?? "";
            if (["FAILED", "CANCELLED", "NODE_FAIL", "BOOT_FAIL", "TIMEOUT"].includes(state)) throw new Error(`job ${id}: ${out}\n${await diag()}`);
            return state === "COMPLETED" ? out : undefined;
        }).catch(async (e) => {
            throw new Error(`${e}\n${await diag()}`);
        });
        mark("job on a cloud node through the tunnel", t0);
        expect(done).toMatch(/\bExitCode=0:0\b/);
        const node = hostOf(NODE)!;
        expect((await tb.sshOk(node, `cat /tmp/tunnel-${id}.out`)).trim()).toBe(`ran on ${NODE}`);
        // The node's bootstrap asked the controller's tunnel address, and sends slurm.conf's (ws1's own) there.
        expect(await tb.sshOk(node, "cat /etc/default/slurmd")).toContain(`--conf-server ${CONTROLLER_TUNNEL}:6817`);
        expect(await tb.sshOk(node, "journalctl -u testbed-startup-script --no-pager")).toContain(
            `aihpc-cloud-node: slurmctld's address in slurm.conf, ${ws1.address}, is reached at ${CONTROLLER_TUNNEL}`,
        );
        expect(await tb.sshOk(node, "nft list table ip aihpc_controller")).toContain(`ip daddr ${ws1.address} dnat to ${CONTROLLER_TUNNEL}`);
        // The workstation's own partition still runs on ws2.
        expect((await tb.sshOk(ws1, "srun -w ws2 -N1 hostname")).trim()).toBe("ws2");
        // slurmctld knows the node by its VPC address (cloud_reg_addrs: where it registered from) ...
        expect(await tb.sshOk(ws1, `scontrol -o show node ${NODE}`)).toMatch(new RegExp(`\\bNodeAddr=${vpcAddress(node).replace(/\./g, "\\.")}\\b`));
        // ... which the controller reaches only through the tunnel, and the node reaches the controller only via the gateway.
        expect(await tb.sshOk(ws1, `ip route get ${vpcAddress(node)}`)).toContain(`dev ${IF}`);
        expect(await tb.sshOk(node, `ip route get ${CONTROLLER_TUNNEL}`)).toContain(`via ${hostOf(GATEWAY)!.address}`);
        const rx = (await tb.sshOk(ws1, `wg show ${IF} transfer`)).trim().split(/\s+/).slice(1).map(Number);
        expect(rx[0]).toBeGreaterThan(0);
        expect(rx[1]).toBeGreaterThan(0);
        // Without the tunnel there is no path: slurmctld's port is unreachable from the node at either address (ws1's
        // own too, though the test hosts share a bridge), and comes back with it.
        const probe = [CONTROLLER_TUNNEL, ws1.address].map((a) => `timeout 5 bash -c '</dev/tcp/${a}/6817' && echo open || echo closed`).join("; ");
        expect((await tb.sshOk(node, probe)).trim().split("\n")).toEqual(["open", "open"]);
        await tb.sshOk(ws1, `systemctl stop wg-quick@${IF}`);
        expect((await tb.sshOk(node, probe)).trim().split("\n")).toEqual(["closed", "closed"]);
        await tb.sshOk(ws1, `systemctl start wg-quick@${IF}`);
        await eventually("slurmctld's port through the tunnel again", 60_000, async () => ((await tb.sshOk(node, probe)).trim() === "open\nopen" ? true : undefined));
        mark("job, path checks, tunnel down and up", t0);
    });

    test("4. destroy: the cloud node goes first, then the controller's tunnel, its key and the packages the step installed", async () => {
        const t0 = Date.now();
        const r = await ex.destroy();
        mark("destroy", t0);
        log(`destroy: ${opsSummary(r.ran)}${r.error ? ` -- failed: ${r.error.message.slice(0, 2000)}` : ""}`);
        if (r.error) throw r.error;
        const order = r.ran.map((c) => c.name);
        expect(order.indexOf("hybrid-cloud-nodes-ws1")).toBeLessThan(order.indexOf("hybrid-tunnel-ws1"));
        expect(order.indexOf("hybrid-tunnel-ws1")).toBeLessThan(order.indexOf("hybrid-tunnel-key-ws1"));
        expect(api.instances.has(NODE)).toBe(false);
        expect((await tb.sshOk(ws1, `ls /etc/wireguard 2>/dev/null | wc -l; systemctl is-active wg-quick@${IF} || true; ip link show ${IF} 2>&1 | head -1`)).trim().split("\n")).toEqual([
            "0",
            "inactive",
            expect.stringMatching(/does not exist/),
        ]);
        expect((await tb.sshOk(ws1, "dpkg-query -W -f='${db:Status-Abbrev}' wireguard-tools wireguard-go 2>/dev/null || true")).trim()).not.toMatch(/^ii/m);
    });
});
