import * as pulumi from "@pulumi/pulumi";
import { PowerSaveInput } from "./slurm/power-save";
import { SecretValue, WorkstationConfig } from "../../config";
import { Acceptance } from "./acceptance";
import { BaseSystem } from "./base-system";
import { Containers } from "./containers";
import { gateOnAllHosts, Host } from "./host";
import { MlRuntime } from "./ml-runtime";
import { Monitoring } from "./monitoring";
import { Nvidia } from "./nvidia";
import { Ready } from "./ready";
import { Slurm } from "./slurm";
import { Storage } from "./storage";

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
    public readonly hosts: Host[];
    public readonly base: Record<string, BaseSystem>;
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
    public readonly baseReady: Ready;
    /** The research users exist, by host (empty with base.enabled false). */
    public readonly usersReady: Ready;

    constructor(name: string, args: WorkstationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Workstation", name, {}, opts);
        const cfg = args.config;
        this.hosts = cfg.hosts.map(
            (h) => new Host(`${name}-${h.name}`, { host: h, transport: cfg.transport, privateKey: args.sshPrivateKey }, { parent: this }),
        );
        // The ids the users step will set: one taken on any host stops the apply before it starts.
        const b = cfg.base;
        gateOnAllHosts(
            this.hosts,
            b.enabled
                ? {
                      users: b.users.flatMap((u) => (u.uid === undefined ? [] : [{ name: u.name, uid: u.uid }])),
                      group: b.researchGroupGid === undefined ? undefined : { name: b.researchGroup, gid: b.researchGroupGid },
                  }
                : undefined,
        );
        this.base = {};
        if (cfg.base.enabled) {
            for (const h of this.hosts) {
                this.base[h.name] = new BaseSystem(
                    `${name}-${h.name}-base`,
                    { host: h, config: cfg.base, aptProxy: cfg.aptProxy, aptProxyCredentials: args.aptProxyCredentials },
                    { parent: this },
                );
            }
        }
        const baseReady: Ready = (this.baseReady = Object.fromEntries(Object.entries(this.base).map(([h, b]) => [h, b])));
        this.usersReady = Object.fromEntries(Object.entries(this.base).map(([h, b]) => [h, b.users]));
        const gpuHosts = this.hosts.filter((h) => h.config.gpus.count > 0);
        const nv = cfg.nvidia;
        if (nv.enabled && gpuHosts.length) {
            this.nvidia = new Nvidia(`${name}-nvidia`, { hosts: gpuHosts, config: nv, baseReady }, { parent: this });
        }
        const nvidia = this.nvidia;
        if (cfg.containers.enabled) {
            this.containers = new Containers(
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
        if (cfg.storage.nfs.enabled) {
            this.storage = new Storage(
                `${name}-storage`,
                { hosts: this.hosts, config: cfg.storage.nfs, researchGroup: cfg.base.researchGroup, baseReady, usersReady: this.usersReady },
                { parent: this },
            );
        }
        if (cfg.mlRuntime.enabled && gpuHosts.length) {
            this.mlRuntime = new MlRuntime(`${name}-ml`, { hosts: gpuHosts, config: cfg.mlRuntime, baseReady }, { parent: this });
        }
        // Exactly one with Slurm or monitoring on (config/schema.ts: slurm and monitoring problems).
        const controller = this.hosts.find((h) => h.config.roles.includes("controller"));
        if (cfg.slurm.enabled && controller) {
            this.slurm = new Slurm(
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
        if (cfg.monitoring.enabled && controller) {
            this.monitoring = new Monitoring(
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
        if (cfg.acceptance.enabled && nvidia) {
            this.acceptance = new Acceptance(
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
        this.registerOutputs({ hosts: this.hosts.map((h) => h.name), gpus: nvidia?.reported });
    }
}
