import * as pulumi from "@pulumi/pulumi";
import { SecretValue, WorkstationConfig } from "../../config";
import { BaseSystem } from "./base-system";
import { Host } from "./host";
import { Monitoring } from "./monitoring";
import { Slurm } from "./slurm";

export { Host } from "./host";
export { BaseSystem } from "./base-system";
export { Slurm } from "./slurm";
export { Monitoring } from "./monitoring";

export interface WorkstationArgs {
    config: WorkstationConfig;
    sshPrivateKey?: SecretValue;
}

/**
 * The workstation side: every host, and the components provisioned on them.
 * Data flows one way: config -> host facts -> base system -> Slurm -> monitoring.
 * On destroy the dependsOn chains run it backwards.
 */
export class Workstation extends pulumi.ComponentResource {
    public readonly hosts: Host[];
    public readonly base: Record<string, BaseSystem>;
    public readonly slurm?: Slurm;
    public readonly monitoring?: Monitoring;

    constructor(name: string, args: WorkstationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Workstation", name, {}, opts);
        const cfg = args.config;
        this.hosts = cfg.hosts.map(
            (h) => new Host(`${name}-${h.name}`, { host: h, transport: cfg.transport, privateKey: args.sshPrivateKey }, { parent: this }),
        );
        this.base = {};
        const after: Record<string, pulumi.Resource[]> = {};
        for (const h of this.hosts) {
            after[h.name] = [];
            if (cfg.base.enabled) {
                const b = new BaseSystem(`${name}-${h.name}-base`, { host: h, config: cfg.base, aptProxy: cfg.aptProxy }, { parent: this });
                this.base[h.name] = b;
                after[h.name] = [b];
            }
        }
        if (cfg.slurm.enabled) {
            this.slurm = new Slurm(`${name}-slurm`, { hosts: this.hosts, config: cfg.slurm, after }, { parent: this });
        }
        if (cfg.monitoring.enabled) {
            this.monitoring = new Monitoring(
                `${name}-monitoring`,
                {
                    hosts: this.hosts,
                    transport: cfg.transport,
                    config: cfg.monitoring,
                    aptProxy: cfg.aptProxy,
                    after,
                    slurmController: this.slurm?.steps[this.slurm.controller.name].config,
                },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }
}
