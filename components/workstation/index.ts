import * as pulumi from "@pulumi/pulumi";
import { PowerSaveInput } from "./slurm/power-save";
import { SecretValue, WorkstationConfig } from "../../config";
import { Acceptance } from "./acceptance";
import { BaseSystem } from "./base-system";
import { Containers } from "./containers";
import { checkSshAgent, gateOnAllHosts, Host } from "./host";
import { MlRuntime } from "./ml-runtime";
import { Monitoring } from "./monitoring";
import { Nvidia } from "./nvidia";
import { Ready } from "./ready";
import { Slurm } from "./slurm";
import { Storage } from "./storage";
import { endTurn } from "../steps/turns";

/** Base systems built per turn (components/steps/turns.ts). */
const BASE_HOSTS_PER_TURN = 8;

export { Host } from "./host";
export { BaseSystem } from "./base-system";
export { Slurm } from "./slurm";
export { Monitoring } from "./monitoring";
export { Nvidia } from "./nvidia";
export { Containers } from "./containers";
export { MlRuntime } from "./ml-runtime";
export { Acceptance } from "./acceptance";
export type { Ready } from "./ready";

export interface WorkstationArgs {
    config: WorkstationConfig;
    sshPrivateKey?: SecretValue;
    /** aihpc:aptProxyCredentials (`user:password` for workstation.aptProxy). */
    aptProxyCredentials?: SecretValue;
    /** aihpc:alertWebhookSecret (monitoring.alertmanager.webhookAuth). */
    alertWebhookSecret?: SecretValue;
    /** The cloud partition's Slurm lines (gcp.cloudNodes), when on. */
    cloudPartition?: PowerSaveInput;
}

/**
 * The workstation side: every host, and the components provisioned on them.
 * Each component takes only the readiness it uses (`ready.ts`): apt from the
 * base system; the GPU driver from NVIDIA for the container toolkit, Slurm's
 * GPU config and the GPU exporter; slurmctld for the Slurm metrics; and
 * everything the acceptance suite runs. So Slurm and monitoring never wait for
 * the ML runtime, and a failed PyTorch install holds back only the acceptance
 * suite. On destroy the same edges run backwards.
 */
export class Workstation extends pulumi.ComponentResource {
    public readonly hosts!: Host[];
    public readonly base!: Record<string, BaseSystem>;
    public readonly slurm?: Slurm;
    public readonly monitoring?: Monitoring;
    public readonly nvidia?: Nvidia;
    public readonly containers?: Containers;
    public readonly mlRuntime?: MlRuntime;
    public readonly acceptance?: Acceptance;
    public readonly storage?: Storage;
    /**
     * The base system in place, by host (empty with base.enabled false): apt
     * sources, proxy and packages, time, tuning, users. Every component's steps
     * wait for it, so on destroy the base system's teardown (whose tuning
     * reloads systemd) comes after theirs, never beside a service's stop.
     */
    public readonly baseReady!: Ready;
    /** The research users exist, by host (empty with base.enabled false). */
    public readonly usersReady!: Ready;

    /**
     * Build the workstation in turns (components/steps/turns.ts): in a preview
     * each part's steps register before the next part is built, so the peak
     * holds one part's pending resources, not the whole graph's.
     */
    static async create(name: string, args: WorkstationArgs, opts?: pulumi.ComponentResourceOptions): Promise<Workstation> {
        const ws = new Workstation(name, opts);
        await ws.build(name, args);
        return ws;
    }

    private constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Workstation", name, {}, opts);
    }

    private async build(name: string, args: WorkstationArgs): Promise<void> {
        // The fields are set here, once, before create() returns the workstation.
        const w = this as { -readonly [K in keyof Workstation]: Workstation[K] };
        const cfg = args.config;
        if (cfg.transport === "ssh" && cfg.sshAuth === "agent" && !pulumi.runtime.isDryRun()) checkSshAgent(process.env.SSH_AUTH_SOCK);
        w.hosts = cfg.hosts.map(
            (h) =>
                new Host(
                    `${name}-${h.name}`,
                    { host: h, transport: cfg.transport, ...(cfg.sshAuth === "agent" ? { agent: true } : { privateKey: args.sshPrivateKey }) },
                    { parent: this },
                ),
        );
        // The ids the users step will set: one taken on any host stops the apply before it starts.
        const b = cfg.base;
        gateOnAllHosts(
            name,
            this.hosts,
            b.enabled
                ? {
                      users: b.users.flatMap((u) => (u.uid === undefined ? [] : [{ name: u.name, uid: u.uid }])),
                      group: b.researchGroupGid === undefined ? undefined : { name: b.researchGroup, gid: b.researchGroupGid },
                  }
                : undefined,
            { parent: this },
        );
        await endTurn();
        w.base = {};
        if (cfg.base.enabled) {
            for (const [i, h] of this.hosts.entries()) {
                // A few hosts' base systems per turn: the largest part of the graph.
                if (i > 0 && i % BASE_HOSTS_PER_TURN === 0) await endTurn();
                this.base[h.name] = new BaseSystem(
                    `${name}-${h.name}-base`,
                    { host: h, config: cfg.base, aptProxy: cfg.aptProxy, aptProxyCredentials: args.aptProxyCredentials },
                    { parent: this },
                );
            }
        }
        const baseReady: Ready = (w.baseReady = Object.fromEntries(Object.entries(this.base).map(([h, b]) => [h, b.ready])));
        w.usersReady = Object.fromEntries(Object.entries(this.base).map(([h, b]) => [h, b.users]));
        await endTurn();
        const gpuHosts = this.hosts.filter((h) => h.config.gpus.count > 0);
        const nv = cfg.nvidia;
        if (nv.enabled && gpuHosts.length) {
            w.nvidia = new Nvidia(`${name}-nvidia`, { hosts: gpuHosts, config: nv, baseReady }, { parent: this });
        }
        const nvidia = this.nvidia;
        await endTurn();
        if (cfg.containers.enabled) {
            w.containers = new Containers(
                `${name}-containers`,
                {
                    hosts: this.hosts,
                    config: cfg.containers,
                    dockerUsers: cfg.base.enabled ? cfg.base.users.map((u) => u.name) : [],
                    baseReady,
                    usersReady: this.usersReady,
                    gpuReady: nvidia?.gpuReady,
                },
                { parent: this },
            );
        }
        // Validated (storage/problems.ts): a server among the hosts, fixed uids and gid.
        await endTurn();
        if (cfg.storage.nfs.enabled) {
            w.storage = new Storage(
                `${name}-storage`,
                { hosts: this.hosts, config: cfg.storage.nfs, researchGroup: cfg.base.researchGroup, baseReady, usersReady: this.usersReady },
                { parent: this },
            );
        }
        await endTurn();
        if (cfg.mlRuntime.enabled && gpuHosts.length) {
            w.mlRuntime = new MlRuntime(`${name}-ml`, { hosts: gpuHosts, config: cfg.mlRuntime, baseReady }, { parent: this });
        }
        // Exactly one with Slurm or monitoring on (config/schema.ts: slurm and monitoring problems).
        const controller = this.hosts.find((h) => h.config.roles.includes("controller"));
        await endTurn();
        if (cfg.slurm.enabled && controller) {
            w.slurm = new Slurm(
                `${name}-slurm`,
                {
                    hosts: this.hosts,
                    controller,
                    config: cfg.slurm,
                    baseReady,
                    gpus: nvidia ? { ready: nvidia.gpuReady, facts: nvidia.gpuFacts } : undefined,
                    nvml: nvidia !== undefined && cfg.slurm.nvmlAutoDetect && nv.driver.source === "debian",
                    cloud: args.cloudPartition,
                },
                { parent: this },
            );
        }
        await endTurn();
        if (cfg.monitoring.enabled && controller) {
            w.monitoring = new Monitoring(
                `${name}-monitoring`,
                {
                    hosts: this.hosts,
                    controller,
                    transport: cfg.transport,
                    config: cfg.monitoring,
                    alertWebhookSecret: args.alertWebhookSecret,
                    baseReady,
                    slurmControllerReady: this.slurm?.controllerReady,
                    gpuReady: nvidia?.gpuReady,
                    gpuContainersReady: this.containers?.gpuContainersReady,
                },
                { parent: this },
            );
        }
        await endTurn();
        if (cfg.acceptance.enabled && nvidia) {
            w.acceptance = new Acceptance(
                `${name}-acceptance`,
                {
                    hosts: gpuHosts,
                    config: cfg.acceptance,
                    python: this.mlRuntime?.python,
                    cudaHome: nvidia.cudaHome,
                    baseReady,
                    gpuReady: nvidia.gpuReady,
                    cudaReady: nvidia.cudaReady,
                    jobTemplatesReady: this.slurm?.jobTemplatesReady,
                    runtimeReady: this.mlRuntime?.runtimeReady,
                },
                { parent: this },
            );
        }
        await endTurn();
        this.registerOutputs({ hosts: this.hosts.map((h) => h.name), gpus: nvidia?.reported });
    }
}
