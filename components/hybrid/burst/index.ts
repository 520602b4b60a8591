import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../workstation/host";
import { scriptStep } from "../../steps";

const SCRIPTS = `${__dirname}/scripts`;

export const BURST_COMMAND = "/usr/local/bin/aihpc-burst";
export const TRAIN_TEMPLATE = "/usr/local/share/aihpc/hybrid/train.sbatch";

export interface BurstArgs {
    hosts: Host[];
    /** What each host's step waits for (its env file), by host name. */
    waitFor: Record<string, pulumi.Input<pulumi.Resource>[]>;
}

/**
 * `aihpc-burst` on every host: the training image as a Vertex AI custom job,
 * every setting from /etc/aihpc/hybrid.env, `--dry-run` printing the job spec;
 * and the Slurm template that runs the same job locally (the switch between
 * the two is the command: `sbatch train.sbatch ARGS` or `aihpc-burst -- ARGS`).
 */
export class Burst extends pulumi.ComponentResource {
    public readonly steps: Record<string, pulumi.Resource> = {};

    constructor(name: string, args: BurstArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:hybrid:Burst", name, {}, opts);
        const bundled = { BURST_PROGRAM: path.join(SCRIPTS, "aihpc-burst"), TRAIN_TEMPLATE: path.join(__dirname, "templates", "train.sbatch") };
        for (const h of args.hosts) {
            this.steps[h.name] = scriptStep(
                `${name}-${h.name}`,
                h.transport,
                { dir: SCRIPTS, file: "burst.sh", env: {}, bundled },
                { parent: this, dependsOn: [h.ready, ...(args.waitFor[h.name] ?? [])] },
            );
        }
        this.registerOutputs({ command: BURST_COMMAND, template: TRAIN_TEMPLATE, hosts: Object.keys(this.steps) });
    }
}
