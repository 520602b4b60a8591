import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { HybridConfig } from "../../../config/hybrid";
import { Host } from "../../workstation/host";
import { scriptStep, stepOptions } from "../../steps";
import { credentialsEnvironment, PATHS, syncService, syncTimer } from "./files";

export * from "./files";

const SCRIPTS = `${__dirname}/scripts`;

export const ENV_FILE = "/etc/aihpc/hybrid.env";

/** /etc/aihpc/hybrid.env: `KEY=value` lines, sorted; values must be plain words (systemd and bash read the file). */
export function envFileText(vars: Record<string, string | number | boolean | undefined>): string {
    const lines = Object.entries(vars)
        .filter(([, v]) => v !== undefined && v !== "")
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => {
            const s = String(v);
            if (!/^[A-Z][A-Z0-9_]*$/.test(k) || !/^[A-Za-z0-9_@:\/.,+=-]+$/.test(s)) throw new Error(`hybrid.env: ${k}=${s} is not a plain word`);
            return `${k}=${s}`;
        });
    return ["# Managed by aihpc (Pulumi, gcp.hybrid): the workstation's view of the cloud side.", ...lines].join("\n");
}

export interface DataArgs {
    hosts: Host[];
    config: HybridConfig["data"];
    /** The env file's text (buckets, image, Tensorboard...). */
    envFile: pulumi.Input<string>;
    researchGroup: string;
    /** Directory of the root copy of the credentials (units run as root with it). */
    certDir: string;
    /** What each host's steps wait for, by host name (credentials, gcloud). */
    waitFor: Record<string, pulumi.Input<pulumi.Resource>[]>;
}

export interface DataSteps {
    env: pulumi.Resource;
    sync?: pulumi.Resource;
}

/**
 * Per host: /etc/aihpc/hybrid.env (what jobs and tools read), and the data
 * plumbing: the datasets bucket pulled by a systemd timer (`gcloud storage
 * rsync`) or mounted (gcsfuse), checkpoints pushed by the same timer.
 */
export class DataSync extends pulumi.ComponentResource {
    public readonly steps: Record<string, DataSteps> = {};

    constructor(name: string, args: DataArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:hybrid:Data", name, {}, opts);
        const c = args.config;
        for (const h of args.hosts) {
            const n = `${name}-${h.name}`;
            const after = stepOptions(this, h, args.waitFor[h.name]);
            const env = scriptStep(
                `${n}-env`,
                h.transport,
                {
                    dir: SCRIPTS,
                    file: "env.sh",
                    env: { ENV_FILE_PATH: ENV_FILE },
                    files: pulumi.output(args.envFile).apply((text) => ({ ENV_FILE: text })),
                    deleteEnv: { ENV_FILE_PATH: ENV_FILE },
                },
                after(),
            );
            let sync: pulumi.Resource | undefined;
            if (c.mode !== "off") {
                const syncPaths = { PROGRAM_FILE: PATHS.program, UNIT_DIR: PATHS.unitDir, SERVICE: PATHS.service, TIMER: PATHS.timer, MOUNT: PATHS.mount };
                sync = scriptStep(
                    `${n}-sync`,
                    h.transport,
                    {
                        dir: SCRIPTS,
                        file: "data.sh",
                        env: {
                            ...syncPaths,
                            MODE: c.mode,
                            DATASETS_DIR: c.datasetsPath,
                            CHECKPOINTS_DIR: c.checkpointsPath,
                            GROUP: args.researchGroup,
                            ENV_FILE_PATH: ENV_FILE,
                            CREDENTIALS_ENV: credentialsEnvironment(args.certDir),
                        },
                        files: { SERVICE_UNIT: syncService(args.certDir, ENV_FILE), TIMER_UNIT: syncTimer(c.interval) },
                        bundled: { SYNC_PROGRAM: path.join(SCRIPTS, "aihpc-data-sync") },
                        deleteEnv: syncPaths,
                    },
                    after(env),
                );
            }
            this.steps[h.name] = { env, sync };
        }
        this.registerOutputs({
            envFile: ENV_FILE,
            mode: c.mode,
            ...(c.mode !== "off" ? { datasets: c.datasetsPath, checkpoints: c.checkpointsPath, interval: c.interval } : {}),
        });
    }
}
