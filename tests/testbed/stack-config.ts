// The `local` stack's program pointed at testbed hosts: the raw CLI config
// (`aihpc:key` -> string, secret key names) that the executor applies.
import { toCliConfig } from "../helpers/harness";
import { Testbed, TestHost } from "./hosts";

export interface PartitionOverride {
    name: string;
    hosts?: string[];
    default?: boolean;
    maxTime?: string;
    defaultTime?: string;
    maxNodes?: number;
    priorityTier?: number;
}

export interface TestbedStackOptions {
    /** First host is the controller (and computes); the rest compute. */
    hosts: TestHost[];
    partitions?: PartitionOverride[];
    /** Per-host overrides (address, port, hostKey) for the bad-input tests. */
    override?: Record<string, { address?: string; port?: number; hostKey?: string; user?: string }>;
    /** Instead of the testbed's proxy (tests of an unreachable proxy). */
    aptProxy?: string;
    /** workstation.base.aptMirror (tests of an unreachable mirror). */
    aptMirror?: string;
    /** workstation.base.sshd (sshd hardening). */
    sshd?: Record<string, unknown>;
    /** workstation.mlRuntime (off unless given). */
    mlRuntime?: Record<string, unknown>;
    /** workstation.httpRepositoryHosts. */
    httpRepositoryHosts?: string[];
    /** false: no monitoring component (VM hosts under emulation: Slurm alone). */
    monitoring?: boolean;
    /** More workstation.slurm settings (accounting). */
    slurm?: Record<string, unknown>;
    /** workstation.base.users (research users on every host). */
    users?: Record<string, unknown>[];
    /** More workstation.base settings (researchGroupGid). */
    base?: Record<string, unknown>;
    /** workstation.storage (shared storage on VM hosts). */
    storage?: Record<string, unknown>;
    /** workstation.nvidia (off unless given). */
    nvidia?: Record<string, unknown>;
    /** workstation.hosts[].gpus.sharing, by host name. */
    gpuSharing?: Record<string, { shards: number }>;
    /** workstation.sshAuth 'agent': no aihpc:sshPrivateKey, the agent of SSH_AUTH_SOCK. */
    sshAgent?: boolean;
}

export const DEFAULT_PARTITIONS: PartitionOverride[] = [{ name: "gpu", default: true, maxTime: "UNLIMITED" }];

/**
 * Workstation config for testbed hosts: pinned host keys, the run's key as the
 * secret `aihpc:sshPrivateKey`, the testbed's apt proxy, the fake GPU device
 * nodes as each host's GPUs. NVIDIA, containers, the ML runtime and the GPU
 * acceptance suite are off (not part of issue 3), and so is Grafana's install
 * (its apt repository is out of the testbed's reach).
 */
export function testbedStackConfig(tb: Testbed, opts: TestbedStackOptions): { config: Record<string, string>; secretKeys: string[] } {
    const hosts = opts.hosts.map((h, i) => {
        const o = opts.override?.[h.name] ?? {};
        return {
            name: h.name,
            address: o.address ?? h.address,
            port: o.port ?? h.port,
            user: o.user ?? h.user,
            hostKey: o.hostKey ?? h.hostKey,
            roles: i === 0 ? ["controller", "compute"] : ["compute"],
            gpus: { count: h.fakeGpuFiles.length, devices: h.fakeGpuFiles, ...(opts.gpuSharing?.[h.name] ? { sharing: opts.gpuSharing[h.name] } : {}) },
        };
    });
    return toCliConfig(
        {
            workstation: {
                transport: "ssh",
                aptProxy: opts.aptProxy ?? tb.proxyUrl,
                ...(opts.aptMirror || opts.sshd || opts.users || opts.base
                    ? { base: { ...(opts.aptMirror ? { aptMirror: opts.aptMirror } : {}), ...(opts.sshd ? { sshd: opts.sshd } : {}), ...(opts.users ? { users: opts.users } : {}), ...(opts.base ?? {}) } }
                    : {}),
                hosts,
                nvidia: opts.nvidia ?? { enabled: false },
                containers: { enabled: false },
                mlRuntime: opts.mlRuntime ?? { enabled: false },
                ...(opts.httpRepositoryHosts ? { httpRepositoryHosts: opts.httpRepositoryHosts } : {}),
                acceptance: { enabled: false },
                slurm: { partitions: opts.partitions ?? DEFAULT_PARTITIONS, ...(opts.slurm ?? {}) },
                monitoring: opts.monitoring === false ? { enabled: false } : { grafana: { enabled: false } },
                ...(opts.storage ? { storage: opts.storage } : {}),
                ...(opts.sshAgent ? { sshAuth: "agent" } : {}),
            },
            ...(opts.sshAgent ? {} : { sshPrivateKey: tb.privateKey }),
        },
        opts.sshAgent ? [] : ["sshPrivateKey"],
    );
}
