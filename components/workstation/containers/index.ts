import * as pulumi from "@pulumi/pulumi";
import { ContainersConfig } from "../../../config/workstation";
import { Host } from "../host";
import { retainStep, scriptStep, stepOptions } from "../../steps";
import { installedPackages } from "../installed";
import { Ready, readyOn } from "../ready";
import { dockerPin, dockerVersionGlob, PATHS, TOOLKIT_PACKAGES, TOOLKIT_REPO_NAME, toolkitPin, toolkitSource, toolkitVersionGlob } from "./files";

export * from "./files";

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
    /** The base system in place on each host (see Workstation.baseReady), where the stack manages it. */
    baseReady?: Ready;
    /** The research users exist on each host (they join the docker group). */
    usersReady?: Ready;
    /**
     * GPU hosts whose driver the stack installs, with the step that verified it:
     * those hosts get the NVIDIA container toolkit, after it.
     */
    gpuReady?: Ready;
}

export interface ContainersHostSteps {
    retain: pulumi.Resource;
    docker: pulumi.Resource;
    /** docker.io's exact version as the docker step found it installed. */
    installed: pulumi.Output<Record<string, string>>;
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
    /** Docker running with the managed daemon.json, by host. */
    public readonly dockerReady: Ready;
    /** Docker able to hand GPUs to containers (NVIDIA toolkit configured), by GPU host. */
    public readonly gpuContainersReady: Ready;

    constructor(name: string, args: ContainersArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Containers", name, {}, opts);
        // Validated config: the schema requires apptainer.sha256 with Apptainer on (config/schema.ts checkContainers).
        const c = args.config;
        this.steps = {};
        for (const h of args.hosts) {
            const t = h.transport;
            const n = `${name}-${h.name}`;
            const after = stepOptions(this, h, readyOn(h.name, args.baseReady));
            const gpuReady = args.gpuReady?.[h.name];
            const gpu = gpuReady !== undefined && c.nvidiaToolkit.enabled;
            const retain = retainStep(`${n}-retain`, t, "containers", c.retain, after());
            const docker = scriptStep(
                `${n}-docker`,
                t,
                {
                    dir: SCRIPTS,
                    file: "docker.sh",
                    env: {
                        DOCKER_VERSION: dockerVersionGlob(c),
                        DOCKER_PACKAGE: `docker.io=${dockerVersionGlob(c)}`,
                        ...(c.docker.version ? { EXACT_PINS: `docker.io=${dockerVersionGlob(c)}` } : {}),
                        DATA_ROOT: c.docker.dataRoot,
                        DOCKER_USERS: args.dockerUsers.join(" "),
                        PIN_FILE: PATHS.dockerPin,
                        DAEMON_FILE: PATHS.daemonJson,
                    },
                    files: { DAEMON_JSON: daemonJson(c, gpu).trimEnd(), PIN: dockerPin(c) },
                    deleteEnv: { PIN_FILE: PATHS.dockerPin, DAEMON_FILE: PATHS.daemonJson },
                },
                after(retain, ...readyOn(h.name, args.usersReady)),
            );
            const steps: ContainersHostSteps = { retain, docker, installed: docker.stdout.apply(installedPackages) };
            if (gpu) {
                steps.nvidiaToolkit = scriptStep(
                    `${n}-nvidia-toolkit`,
                    t,
                    {
                        dir: SCRIPTS,
                        file: "nvidia-toolkit.sh",
                        env: {
                            REPO_NAME: TOOLKIT_REPO_NAME,
                            PACKAGES: TOOLKIT_PACKAGES.map((p) => `${p}=${toolkitVersionGlob(c)}`).join(" "),
                            TOOLKIT_REPO: c.nvidiaToolkit.repository,
                            KEY_URL: c.nvidiaToolkit.keyUrl,
                            FINGERPRINTS: c.nvidiaToolkit.keyFingerprints.join(" "),
                            KEY_SHA256: c.nvidiaToolkit.keySha256 ?? "",
                            CDI_FILE: PATHS.cdi,
                        },
                        files: { SOURCE: toolkitSource(c), PIN: toolkitPin(c) },
                        deleteEnv: { REPO_NAME: TOOLKIT_REPO_NAME, CDI_FILE: PATHS.cdi },
                    },
                    after(docker, gpuReady),
                );
            }
            // Enabled, Apptainer has its sha256 (containers/problems.ts).
            const sha256 = c.apptainer.enabled ? c.apptainer.sha256 : undefined;
            if (sha256 !== undefined) {
                steps.apptainer = scriptStep(
                    `${n}-apptainer`,
                    t,
                    { dir: SCRIPTS, file: "apptainer.sh", env: { APPTAINER_VERSION: c.apptainer.version, APPTAINER_URL: apptainerUrl(c), APPTAINER_SHA256: sha256 } },
                    after(retain),
                );
            }
            this.steps[h.name] = steps;
        }
        const hosts = Object.keys(this.steps);
        this.dockerReady = Object.fromEntries(hosts.map((h) => [h, this.steps[h].docker]));
        this.gpuContainersReady = Object.fromEntries(hosts.flatMap((h) => (this.steps[h].nvidiaToolkit ? [[h, this.steps[h].nvidiaToolkit!]] : [])));
        this.registerOutputs({ dockerHosts: hosts, gpuContainerHosts: Object.keys(this.gpuContainersReady) });
    }
}
