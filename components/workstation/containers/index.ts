import * as pulumi from "@pulumi/pulumi";
import { ContainersConfig } from "../../../config/workstation";
import { Host } from "../host";
import { retainStep, scriptStep, stepOptions } from "../../steps";

const SCRIPTS = `${__dirname}/scripts`;

/** What `nvidia-ctk runtime configure --runtime=docker` adds; the docker step writes it too, so the two agree. */
export const NVIDIA_RUNTIME = { nvidia: { args: [] as string[], path: "nvidia-container-runtime" } };

/** /etc/docker/daemon.json for one host. */
export function daemonJson(c: ContainersConfig, nvidiaRuntime: boolean): string {
    const d = c.docker;
    const cfg: Record<string, unknown> = {
        "data-root": d.dataRoot,
        "exec-opts": [`native.cgroupdriver=${d.cgroupDriver}`],
        "log-driver": "json-file",
        "log-opts": { "max-size": d.logMaxSize, "max-file": String(d.logMaxFiles) },
    };
    if (nvidiaRuntime) cfg.runtimes = NVIDIA_RUNTIME;
    return `${JSON.stringify(cfg, null, 4)}\n`;
}

export function apptainerUrl(c: ContainersConfig): string {
    return c.apptainer.url.replace(/\{version\}/g, c.apptainer.version);
}

export interface ContainersArgs {
    hosts: Host[];
    config: ContainersConfig;
    /** Research users to put in the docker group (workstation.base.users). */
    dockerUsers: string[];
    /** Whether GPU hosts get the NVIDIA container toolkit (needs workstation.nvidia). */
    nvidia: boolean;
    /** What each host's steps wait for (base system, NVIDIA driver), by host name. */
    after?: Record<string, pulumi.Input<pulumi.Resource>[]>;
}

export interface ContainersHostSteps {
    retain: pulumi.Resource;
    docker: pulumi.Resource;
    nvidiaToolkit?: pulumi.Resource;
    apptainer?: pulumi.Resource;
}

/**
 * Containers on every host: Docker (Debian's docker.io, pinned) with a managed
 * daemon.json, the NVIDIA container toolkit (runtime + CDI) on GPU hosts, and
 * Apptainer from its pinned, sha256-checked release .deb.
 */
export class Containers extends pulumi.ComponentResource {
    public readonly steps: Record<string, ContainersHostSteps>;

    constructor(name: string, args: ContainersArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Containers", name, {}, opts);
        // Validated config: the schema requires apptainer.sha256 with Apptainer on (config/schema.ts checkContainers).
        const c = args.config;
        this.steps = {};
        for (const h of args.hosts) {
            const t = h.transport;
            const n = `${name}-${h.name}`;
            const base = args.after?.[h.name] ?? [];
            const after = stepOptions(this, h, base);
            const gpu = args.nvidia && c.nvidiaToolkit.enabled && h.config.gpus.count > 0;
            const retain = retainStep(`${n}-retain`, t, "containers", c.retain, after());
            const docker = scriptStep(
                `${n}-docker`,
                t,
                {
                    dir: SCRIPTS,
                    file: "docker.sh",
                    env: { DOCKER_VERSION: c.docker.version, DATA_ROOT: c.docker.dataRoot, DOCKER_USERS: args.dockerUsers.join(" ") },
                    files: { DAEMON_JSON: daemonJson(c, gpu).trimEnd() },
                },
                after(retain),
            );
            const steps: ContainersHostSteps = { retain, docker };
            if (gpu) {
                steps.nvidiaToolkit = scriptStep(
                    `${n}-nvidia-toolkit`,
                    t,
                    {
                        dir: SCRIPTS,
                        file: "nvidia-toolkit.sh",
                        env: {
                            TOOLKIT_VERSION: c.nvidiaToolkit.version,
                            TOOLKIT_REPO: c.nvidiaToolkit.repository,
                            KEY_URL: c.nvidiaToolkit.keyUrl,
                            FINGERPRINTS: c.nvidiaToolkit.keyFingerprints.join(" "),
                            KEY_SHA256: c.nvidiaToolkit.keySha256 ?? "",
                        },
                    },
                    after(docker),
                );
            }
            if (c.apptainer.enabled) {
                steps.apptainer = scriptStep(
                    `${n}-apptainer`,
                    t,
                    { dir: SCRIPTS, file: "apptainer.sh", env: { APPTAINER_VERSION: c.apptainer.version, APPTAINER_URL: apptainerUrl(c), APPTAINER_SHA256: c.apptainer.sha256! } },
                    after(retain),
                );
            }
            this.steps[h.name] = steps;
        }
        this.registerOutputs({});
    }
}
