import * as pulumi from "@pulumi/pulumi";
import { SecretValue, WorkstationConfig } from "../../config";
import { Acceptance } from "./acceptance";
import { BaseSystem } from "./base-system";
import { Containers } from "./containers";
import { gateOnAllHosts, Host } from "./host";
import { MlRuntime } from "./ml-runtime";
import { Monitoring } from "./monitoring";
import { cudaHome, Nvidia } from "./nvidia";
import { Slurm } from "./slurm";

export { Host } from "./host";
export { BaseSystem } from "./base-system";
export { Slurm } from "./slurm";
export { Monitoring } from "./monitoring";
export { Nvidia } from "./nvidia";
export { Containers } from "./containers";
export { MlRuntime } from "./ml-runtime";
export { Acceptance } from "./acceptance";

export interface WorkstationArgs {
    config: WorkstationConfig;
    sshPrivateKey?: SecretValue;
    /** aihpc:aptProxyCredentials (`user:password` for workstation.aptProxy). */
    aptProxyCredentials?: SecretValue;
    /** aihpc:alertWebhookSecret (monitoring.alertmanager.webhookAuth). */
    alertWebhookSecret?: SecretValue;
}

/**
 * The workstation side: every host, and the components provisioned on them.
 * Data flows one way: config -> host facts -> base system -> NVIDIA driver and
 * CUDA -> containers -> ML runtime -> Slurm -> monitoring -> GPU acceptance.
 * On destroy the dependsOn chains run it backwards.
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

    constructor(name: string, args: WorkstationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Workstation", name, {}, opts);
        const cfg = args.config;
        this.hosts = cfg.hosts.map(
            (h) => new Host(`${name}-${h.name}`, { host: h, transport: cfg.transport, privateKey: args.sshPrivateKey }, { parent: this }),
        );
        gateOnAllHosts(this.hosts);
        this.base = {};
        const after: Record<string, pulumi.Resource[]> = {};
        for (const h of this.hosts) {
            after[h.name] = [];
            if (cfg.base.enabled) {
                const b = new BaseSystem(`${name}-${h.name}-base`, { host: h, config: cfg.base, aptProxy: cfg.aptProxy, aptProxyCredentials: args.aptProxyCredentials }, { parent: this });
                this.base[h.name] = b;
                after[h.name] = [b];
            }
        }
        // Each later component on a host waits for what came before it there.
        const add = (host: string, ...r: (pulumi.Resource | undefined)[]) => {
            after[host] = [...after[host], ...r.filter((x): x is pulumi.Resource => x !== undefined)];
        };
        const gpuHosts = this.hosts.filter((h) => h.config.gpus.count > 0);
        const nv = cfg.nvidia;
        const verified: Record<string, pulumi.Resource[]> = {};
        if (nv.enabled && gpuHosts.length) {
            this.nvidia = new Nvidia(`${name}-nvidia`, { hosts: gpuHosts, config: nv, after: { ...after } }, { parent: this });
            for (const [host, s] of Object.entries(this.nvidia.steps)) {
                add(host, s.verify, s.modules);
                verified[host] = [s.verify];
            }
        }
        if (cfg.containers.enabled) {
            this.containers = new Containers(
                `${name}-containers`,
                { hosts: this.hosts, config: cfg.containers, dockerUsers: cfg.base.enabled ? cfg.base.users.map((u) => u.name) : [], nvidia: this.nvidia !== undefined, after: { ...after } },
                { parent: this },
            );
            for (const [host, s] of Object.entries(this.containers.steps)) {
                add(host, s.docker, s.nvidiaToolkit, s.apptainer);
                if (s.nvidiaToolkit) verified[host] = [...(verified[host] ?? []), s.nvidiaToolkit];
            }
        }
        if (cfg.mlRuntime.enabled && gpuHosts.length) {
            this.mlRuntime = new MlRuntime(
                `${name}-ml`,
                { hosts: gpuHosts, config: cfg.mlRuntime, cuda: this.nvidia?.defaultCuda ?? nv.cuda.default ?? nv.cuda.versions[0], after: { ...after } },
                { parent: this },
            );
            for (const [host, s] of Object.entries(this.mlRuntime.steps)) add(host, s.venv, s.kernel);
        }
        if (cfg.slurm.enabled) {
            this.slurm = new Slurm(
                `${name}-slurm`,
                {
                    hosts: this.hosts,
                    config: cfg.slurm,
                    after,
                    nvml: this.nvidia !== undefined && cfg.slurm.nvmlAutoDetect && nv.driver.source === "debian",
                    facts: this.nvidia ? Object.fromEntries(Object.entries(this.nvidia.steps).map(([host, s]) => [host, s.facts])) : undefined,
                },
                { parent: this },
            );
        }
        if (cfg.monitoring.enabled) {
            this.monitoring = new Monitoring(
                `${name}-monitoring`,
                {
                    hosts: this.hosts,
                    transport: cfg.transport,
                    config: cfg.monitoring,
                    alertWebhookSecret: args.alertWebhookSecret,
                    after,
                    slurmController: this.slurm?.steps[this.slurm.controller.name].config,
                    gpus: this.nvidia !== undefined,
                    dockerWithNvidia: this.containers !== undefined && cfg.containers.nvidiaToolkit.enabled,
                    gpuAfter: verified,
                },
                { parent: this },
            );
        }
        if (cfg.acceptance.enabled && this.nvidia) {
            const nvidia = this.nvidia;
            const cudaStep: Record<string, pulumi.Resource[]> = {};
            for (const [host, s] of Object.entries(nvidia.steps)) {
                cudaStep[host] = [s.cuda[nvidia.defaultCuda], s.verify, ...(this.slurm?.steps[host] ? [this.slurm.steps[host].jobs] : [])];
                if (this.mlRuntime?.steps[host]) cudaStep[host].push(this.mlRuntime.steps[host].venv);
            }
            this.acceptance = new Acceptance(
                `${name}-acceptance`,
                {
                    hosts: gpuHosts,
                    config: cfg.acceptance,
                    python: this.mlRuntime?.python,
                    cudaHome: cudaHome(nvidia.defaultCuda),
                    after: cudaStep,
                },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }
}
