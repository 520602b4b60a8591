import * as pulumi from "@pulumi/pulumi";
import { SecretValue, WorkstationConfig } from "../../config";
import { Host } from "./host";

export { Host } from "./host";

export interface WorkstationArgs {
    config: WorkstationConfig;
    sshPrivateKey?: SecretValue;
}

/** The workstation side: every host, and the components provisioned on them. */
export class Workstation extends pulumi.ComponentResource {
    public readonly hosts: Host[];

    constructor(name: string, args: WorkstationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Workstation", name, {}, opts);
        const cfg = args.config;
        this.hosts = cfg.hosts.map(
            (h) => new Host(`${name}-${h.name}`, { host: h, transport: cfg.transport, privateKey: args.sshPrivateKey }, { parent: this }),
        );
        this.registerOutputs({});
    }
}
