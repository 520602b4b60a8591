import { z } from "zod";
import { acceleratorsFor, acceleratorZones, gcpRegions, n1MaxCount, workbenchAccelerators } from "./gcp";

/** Upper bound of gcp.cloudNodes.maxNodes: a typo (400 for 4) must not become a bill. */
export const MAX_CLOUD_NODES = 64;

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * `gcp.cloudNodes`: a Slurm partition of the workstation's own cluster whose
 * nodes are Compute Engine instances, created when jobs wait (ResumeProgram)
 * and deleted when idle (SuspendProgram). Off by default.
 */
export const cloudNodesSchema = z.strictObject({
    enabled: z.boolean().default(false),
    /** The Slurm partition (`sbatch -p cloud`); must not be a workstation.slurm.partitions name. */
    partition: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, "expected a partition name: lowercase letters, digits, '-' and '_'").default("cloud"),
    /** Cloud nodes that may exist at once: Slurm knows exactly this many (State=CLOUD), so it never asks for more. */
    maxNodes: z.number().int().min(1).max(MAX_CLOUD_NODES).default(2),
    machineType: z.string().regex(/^[a-z0-9]+-[a-z0-9-]+$/, "expected a machine type such as \"g2-standard-8\"").default("g2-standard-8"),
    gpu: z
        .strictObject({
            type: z.enum(workbenchAccelerators),
            count: z.number().int().refine((n) => [1, 2, 4, 8].includes(n), "expected 1, 2, 4 or 8").default(1),
        })
        .default({ type: "NVIDIA_L4", count: 1 }),
    /** Spot VMs: up to ~60-90% cheaper, but Google may preempt them (Slurm requeues the job). */
    spot: z.boolean().default(false),
    /** Zones tried in this order on every resume (the next one on a stockout or quota error); default [gcp.zone]. */
    zones: z.array(z.string().regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, "expected a zone such as \"europe-west4-a\"")).min(1).max(8).optional(),
    bootDiskGb: z.number().int().min(20).max(65536).default(100),
    /** Idle seconds before Slurm suspends (deletes) a cloud node. */
    suspendTime: seconds(60, 86400).default(600),
    /** Seconds a resumed node has to boot, install Slurm and register before Slurm gives up on it. */
    resumeTimeout: seconds(300, 7200).default(1200),
    /** Seconds a node stays DOWN after a failed resume before it is offered again (doubles per consecutive failure, at most 16x). */
    resumeFailBackoff: seconds(60, 86400).default(1800),
    /** The WireGuard tunnel's addresses (the controller's end among them): the only source the nodes' Slurm ports admit. */
    tunnelCidr: z
        .string()
        .regex(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-9]|3[0-2])$/, "expected an IPv4 CIDR from /16 to /32 such as \"10.99.0.0/24\"")
        .default("10.99.0.0/24"),
    /** The controller's address in the tunnel, where nodes fetch their config (slurmd --conf-server); default the tunnel's first address. */
    controllerAddress: z
        .string()
        .regex(/^(\d{1,3}\.){3}\d{1,3}$/, "expected an IPv4 address such as \"10.99.0.1\"")
        .optional(),
    /** The WireGuard tunnel from the controller (it dials out) to a gateway VM in the stack's VPC: the nodes' only path to slurmctld. */
    tunnel: z
        .strictObject({
            /** Off only where the nodes reach the controller another way (a VPN or Interconnect of your own; the project's bridge-only tests). */
            enabled: z.boolean().default(true),
            /** The public IPv4 address (or range) the workstation's traffic leaves from: the gateway's UDP port admits nothing else. */
            workstationEgressCidr: z
                .string()
                .regex(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-9]|3[0-2])$/, "expected a public IPv4 CIDR from /16 to /32 such as \"203.0.113.7/32\"")
                .optional(),
            /** The gateway's UDP port. */
            port: z.number().int().min(1024).max(65535).default(51820),
            /** The WireGuard interface on the controller (wg-quick@<interface>); at most 15 characters, as Linux allows. */
            interface: z.string().regex(/^[a-z][a-z0-9-]{0,14}$/, "expected an interface name: a lowercase letter, then up to 14 lowercase letters, digits or '-'").default("aihpc-wg"),
            /** The gateway's address in the tunnel; default the address after the controller's. */
            gatewayAddress: z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, "expected an IPv4 address such as \"10.99.0.2\"").optional(),
            /** The gateway VM: shared-core is enough for Slurm's control traffic (an e2-micro forwards well over 100 Mbit/s). */
            machineType: z.string().regex(/^[a-z0-9]+-[a-z0-9-]+$/, "expected a machine type such as \"e2-micro\"").default("e2-micro"),
            /** Seconds between keepalives from the controller: keeps its NAT's (and firewall's) UDP mapping open, since nothing may dial in. */
            keepalive: z.number().int().min(10).max(120).default(25),
        })
        .default({ enabled: true, port: 51820, interface: "aihpc-wg", machineType: "e2-micro", keepalive: 25 }),
    /** srun's listening ports (slurm.conf SrunPortRange), opened from the tunnel and between cloud nodes. */
    srunPortRange: z
        .string()
        .regex(/^\d{4,5}-\d{4,5}$/, "expected a port range such as \"60001-63000\"")
        .default("60001-63000"),
    /**
     * Who the power-save programs ask for instances: `gce` (Compute Engine). `testbed` is for this
     * project's own real-host tests only: the same requests go to a stand-in compute API
     * (`testbedApi`) that boots test hosts. Only stacks named `testbed*` may use it (config/load.ts).
     */
    backend: z.enum(["gce", "testbed"]).default("gce"),
    /** With backend `testbed`: the stand-in compute API, `http://<private IPv4>:<port>/compute/v1`. */
    testbedApi: z.string().optional(),
});

export type CloudNodesConfig = z.infer<typeof cloudNodesSchema>;

/** vCPUs and memory of a machine type, from Compute Engine's machine type tables (approximate for custom types). */
export function machineShape(machineType: string): { cpus: number; memoryMb: number } | undefined {
    const m = /^([a-z0-9]+)-([a-z]+)-(\d+)(g?)$/.exec(machineType);
    if (!m) return undefined;
    const [, family, kind, nStr, g] = m;
    const n = Number(nStr);
    const gb = (x: number) => Math.round(x * 1024);
    if (family === "n1" && !g) {
        const perCpu: Record<string, number> = { standard: 3.75, highmem: 6.5, highcpu: 0.9 };
        return perCpu[kind] && [1, 2, 4, 8, 16, 32, 64, 96].includes(n) ? { cpus: n, memoryMb: gb(n * perCpu[kind]) } : undefined;
    }
    if (family === "g2" && kind === "standard" && !g) return [4, 8, 12, 16, 24, 32, 48, 96].includes(n) ? { cpus: n, memoryMb: gb(n * 4) } : undefined;
    if (family === "a2" && g) {
        const perGpu: Record<string, [number, number]> = { highgpu: [12, 85], ultragpu: [12, 170], megagpu: [6, 85] };
        const s = perGpu[kind];
        return s && [1, 2, 4, 8, 16].includes(n) ? { cpus: n * s[0], memoryMb: gb(n * s[1]) } : undefined;
    }
    if (family === "a3" && kind === "highgpu" && g) return [1, 2, 4, 8].includes(n) ? { cpus: n * 26, memoryMb: gb(n * 234) } : undefined;
    return undefined;
}

function ipv4(a: string): number {
    return a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

/** The controller's tunnel address: controllerAddress, else the first address of tunnelCidr. */
export function controllerTunnelAddress(c: Pick<CloudNodesConfig, "tunnelCidr" | "controllerAddress">): string {
    if (c.controllerAddress) return c.controllerAddress;
    const [net, bits] = c.tunnelCidr.split("/");
    const mask = Number(bits) === 32 ? 0xffffffff : (0xffffffff << (32 - Number(bits))) >>> 0;
    const first = ((ipv4(net) & mask) >>> 0) + (Number(bits) >= 31 ? 0 : 1);
    return [24, 16, 8, 0].map((s) => (first >>> s) & 255).join(".");
}

function ipv4String(n: number): string {
    return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/** The gateway's tunnel address: tunnel.gatewayAddress, else the address after the controller's. */
export function gatewayTunnelAddress(c: Pick<CloudNodesConfig, "tunnelCidr" | "controllerAddress" | "tunnel">): string {
    return c.tunnel.gatewayAddress ?? ipv4String((ipv4(controllerTunnelAddress(c)) + 1) >>> 0);
}

/** Whether two IPv4 CIDRs share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
    const bits = Math.min(Number(a.split("/")[1]), Number(b.split("/")[1]));
    return inCidr(a.split("/")[0], `${b.split("/")[0]}/${bits}`);
}

const PRIVATE_V4 = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"];

/** The testbed's stand-in compute API: plain http to a private (RFC 1918) IPv4 address, Compute Engine's path. */
export function testbedApiOk(url: string): boolean {
    const m = /^http:\/\/(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\/compute\/v1$/.exec(url);
    if (!m || m[1].split(".").some((o) => Number(o) > 255) || Number(m[2]) < 1 || Number(m[2]) > 65535) return false;
    return ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].some((c) => inCidr(m[1], c));
}

/** Only the project's own test stacks (named testbed*) may boot test hosts instead of instances. */
export function cloudNodesStackProblems(c: Pick<CloudNodesConfig, "enabled" | "backend">, stack: string): string[] {
    if (c.backend !== "testbed" || stack.startsWith("testbed")) return [];
    return [
        `'testbed' boots test hosts through a stand-in API instead of Compute Engine instances, for this project's own real-host tests: only stacks named testbed* may use it (this stack: '${stack}'); use 'gce'`,
    ];
}

/** Whether an IPv4 address lies in a CIDR. */
export function inCidr(addr: string, cidr: string): boolean {
    const [net, bits] = cidr.split("/");
    const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
    return ((ipv4(addr) & mask) >>> 0) === ((ipv4(net) & mask) >>> 0);
}

/** The zones a resume tries, in order. */
export function cloudNodeZones(c: Pick<CloudNodesConfig, "zones">, defaultZone: string): string[] {
    return c.zones ?? [defaultZone];
}

export interface CloudNodesContext {
    cloudNodes: CloudNodesConfig;
    region: string;
    /** gcp.zone or its default. */
    zone: string;
    workstationPartitions: string[];
    network: boolean;
    workstationIdentity: boolean;
    slurm: boolean;
    /** gcp.network.subnetCidr: the nodes' addresses, which the controller routes into the tunnel. */
    subnetCidr: string;
    /** workstation.hosts: names, roles and addresses. */
    workstationHosts: { name: string; roles: readonly string[]; address?: string }[];
}

/** Problems of gcp.cloudNodes.tunnel (paths under it), when the partition and the tunnel are on. */
export function tunnelProblems(c: CloudNodesConfig, x: Pick<CloudNodesContext, "subnetCidr" | "workstationHosts">): [(string | number)[], string][] {
    const t = c.tunnel;
    const out: [(string | number)[], string][] = [];
    if (!t.enabled) return out;
    if (t.workstationEgressCidr === undefined) {
        out.push([
            ["tunnel", "workstationEgressCidr"],
            "required with the tunnel on: the public IPv4 address the workstation's traffic leaves from, such as \"203.0.113.7/32\" (the gateway's UDP port admits only it); or tunnel.enabled false where the nodes reach the controller another way",
        ]);
    } else {
        const [addr, bits] = t.workstationEgressCidr.split("/");
        if (addr.split(".").some((o) => Number(o) > 255)) out.push([["tunnel", "workstationEgressCidr"], `'${t.workstationEgressCidr}' is not an IPv4 CIDR`]);
        else if (PRIVATE_V4.some((p) => inCidr(addr, p))) {
            out.push([["tunnel", "workstationEgressCidr"], `'${t.workstationEgressCidr}' is a private address: give the public address the workstation's traffic leaves from (what Google sees, e.g. from \`curl -4 ifconfig.me\` on the workstation)`]);
        } else if (!inCidr(addr, t.workstationEgressCidr) || ipv4(addr) !== ((ipv4(addr) & ((0xffffffff << (32 - Number(bits))) >>> 0)) >>> 0)) {
            out.push([["tunnel", "workstationEgressCidr"], `'${t.workstationEgressCidr}' has host bits set: use its network address or a /32`]);
        }
    }
    if (Number(c.tunnelCidr.split("/")[1]) > 30) out.push([["tunnelCidr"], `${c.tunnelCidr} is too small for the tunnel: the controller and the gateway need an address each (use /30 or larger)`]);
    if (cidrsOverlap(c.tunnelCidr, x.subnetCidr)) {
        out.push([["tunnelCidr"], `${c.tunnelCidr} overlaps gcp.network.subnetCidr ${x.subnetCidr}: the VPC routes the tunnel's addresses to the gateway, which a subnet's own route would override; pick a range outside it`]);
    }
    const ctl = controllerTunnelAddress(c);
    const gw = gatewayTunnelAddress(c);
    if (!inCidr(gw, c.tunnelCidr)) out.push([["tunnel", "gatewayAddress"], `${gw} is not in tunnelCidr ${c.tunnelCidr}: set tunnel.gatewayAddress to a free address in it`]);
    else if (gw === ctl) out.push([["tunnel", "gatewayAddress"], `${gw} is the controller's tunnel address (controllerAddress): the gateway needs its own`]);
    // The controller routes the subnet and the tunnel's range into the tunnel, and nodes send slurm.conf's controller
    // address there: a workstation host's address inside either would be out of slurmctld's (or the nodes') reach.
    for (const h of x.workstationHosts) {
        const addr = h.address;
        if (addr === undefined || !/^\d{1,3}(\.\d{1,3}){3}$/.test(addr)) continue;
        for (const [range, setting] of [
            [x.subnetCidr, "gcp.network.subnetCidr"],
            [c.tunnelCidr, "gcp.cloudNodes.tunnelCidr"],
        ] as const) {
            if (inCidr(addr, range)) {
                out.push([
                    ["tunnel", "enabled"],
                    `workstation host ${h.name}'s address ${addr} lies in ${setting} ${range}, which the Slurm controller routes into the tunnel: move ${setting} to a range the workstation's network does not use`,
                ]);
            }
        }
    }
    return out;
}

/** Problems as [path under aihpc:gcp.cloudNodes, message]; nothing when the partition is off. */
export function cloudNodesProblems(x: CloudNodesContext): [(string | number)[], string][] {
    const c = x.cloudNodes;
    const out: [(string | number)[], string][] = [];
    if (!c.enabled) return out;
    if (!x.slurm) out.push([["enabled"], "cloud nodes join the workstation's Slurm cluster: turn workstation.slurm.enabled on, or gcp.cloudNodes.enabled off"]);
    if (!x.network) out.push([["enabled"], "cloud nodes run in the stack's VPC without public IPs: turn gcp.network.enabled on, or gcp.cloudNodes.enabled off"]);
    if (!x.workstationIdentity) {
        out.push([["enabled"], "the controller creates and deletes cloud nodes as the workstation's identity: turn gcp.workstationIdentity.enabled on, or gcp.cloudNodes.enabled off"]);
    }
    if (x.workstationPartitions.includes(c.partition)) {
        out.push([["partition"], `'${c.partition}' is already a workstation.slurm.partitions name: pick another name for the cloud partition`]);
    }
    const fit = acceleratorsFor(c.machineType);
    if (fit.types.length === 0) {
        out.push([["machineType"], `machine type '${c.machineType}' takes no GPU: use n1-* (T4, V100, P100), g2-standard-* (L4), a2-* (A100) or a3-highgpu-* (H100)`]);
    } else if (!fit.types.includes(c.gpu.type)) {
        out.push([["gpu", "type"], `${c.gpu.type} is not available on machine type '${c.machineType}': expected ${fit.types.join(" or ")}`]);
    } else if (fit.builtIn && fit.counts.length && !fit.counts.includes(c.gpu.count)) {
        out.push([["gpu", "count"], `machine type '${c.machineType}' has ${fit.counts[0]} ${c.gpu.type}, got count ${c.gpu.count}`]);
    } else if (!fit.builtIn && c.gpu.count > (n1MaxCount[c.gpu.type] ?? 4)) {
        out.push([["gpu", "count"], `N1 machines take at most ${n1MaxCount[c.gpu.type] ?? 4} ${c.gpu.type}, got ${c.gpu.count}`]);
    }
    if (fit.types.length > 0 && machineShape(c.machineType) === undefined) {
        out.push([["machineType"], `unknown shape of '${c.machineType}' (vCPUs and memory, which Slurm's node line needs): use a machine type listed in config/cloud-nodes.ts machineShape`]);
    }
    const [lo, hi] = c.srunPortRange.split("-").map(Number);
    if (!(lo >= 1024 && lo <= hi && hi <= 65535)) out.push([["srunPortRange"], `expected LOW-HIGH with 1024 <= LOW <= HIGH <= 65535, got '${c.srunPortRange}'`]);
    if (c.controllerAddress !== undefined && !inCidr(c.controllerAddress, c.tunnelCidr)) {
        out.push([["controllerAddress"], `${c.controllerAddress} is not in tunnelCidr ${c.tunnelCidr}: the firewall admits Slurm only from the tunnel`]);
    }
    out.push(...tunnelProblems(c, x));
    if (c.backend === "testbed") {
        if (c.testbedApi === undefined) out.push([["testbedApi"], "required with backend 'testbed': the stand-in compute API's URL, http://<private IPv4>:<port>/compute/v1"]);
        else if (!testbedApiOk(c.testbedApi)) out.push([["testbedApi"], `expected http://<private IPv4>:<port>/compute/v1 (the testbed's stand-in compute API), got '${c.testbedApi}'`]);
    } else if (c.testbedApi !== undefined) {
        out.push([["testbedApi"], "set, but backend is 'gce': remove it (it is for backend 'testbed', the project's own tests)"]);
    }
    const zones = cloudNodeZones(c, x.zone);
    const letters = gcpRegions[x.region];
    const offered = acceleratorZones[x.region]?.[c.gpu.type];
    zones.forEach((z, i) => {
        const path = c.zones ? ["zones", i] : ["zones"];
        if (zones.indexOf(z) !== i) out.push([path, `zone '${z}' is listed twice`]);
        else if (!z.startsWith(`${x.region}-`)) out.push([path, `zone '${z}' is not in gcp.region '${x.region}': the nodes use the stack's regional subnet`]);
        else if (letters && !letters.includes(z.slice(x.region.length + 1))) out.push([path, `region '${x.region}' has no zone '${z}'`]);
        else if (offered && !offered.includes(z.slice(x.region.length + 1))) {
            out.push([path, `${c.gpu.type} is not offered in zone '${z}': use ${offered.map((l) => `${x.region}-${l}`).join(" or ")}`]);
        }
    });
    return out;
}
