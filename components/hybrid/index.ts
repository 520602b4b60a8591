import * as pulumi from "@pulumi/pulumi";
import { WorkstationConfig } from "../../config";
import { HybridConfig } from "../../config/hybrid";
import { GcpEnvironment } from "../gcp";
import { Host } from "../workstation/host";
import { Workstation } from "../workstation";
import { Burst } from "./burst";
import { DataSync, envFileText } from "./data";
import { WorkstationIdentity } from "./identity";
import { TrainingImage } from "./images";

export { contextTag, dockerHost, TrainingImage, TRAINING_CONTEXT } from "./images";
export { envFileText, ENV_FILE } from "./data";
export { gcloudPackages } from "./identity";
export { BURST_COMMAND, TRAIN_TEMPLATE } from "./burst";

export interface HybridArgs {
    config: HybridConfig;
    workstation: Workstation;
    workstationConfig: WorkstationConfig;
    gcp: GcpEnvironment;
}

/** The host that builds the image: `buildHost`, else the Slurm controller, else the first host. */
export function buildHostOf(hosts: Host[], buildHost?: string): Host {
    return hosts.find((h) => h.name === buildHost) ?? hosts.find((h) => h.config.roles.includes("controller")) ?? hosts[0];
}

/** What the summary and tests read from the bridge. */
export interface HybridOutputs {
    image?: { uri: string; digest: string; baseImage: string; buildHost: string };
    /** /etc/aihpc/hybrid.env as written on every host. */
    env: Record<string, string>;
}

/**
 * The bridge between the workstation and the Google Cloud side, in one graph:
 * - identity: keyless credentials (X.509 workload identity), ADC, gcloud,
 *   Docker's credential helper for Artifact Registry;
 * - images: the training image built on the workstation, pushed by content tag;
 * - data: /etc/aihpc/hybrid.env, dataset pull or mount, checkpoint push;
 * - burst: `aihpc-burst` (a Vertex AI custom job of the same image) and the
 *   Slurm template that runs it locally.
 * Every host step waits for the cloud identities, so on destroy the workstation
 * loses its access before they go; nothing of the workstation waits for the
 * bridge, so removing the cloud side leaves local jobs running.
 */
export class Hybrid extends pulumi.ComponentResource {
    public readonly identity: WorkstationIdentity;
    public readonly image?: TrainingImage;
    public readonly data: DataSync;
    public readonly burst: Burst;
    public readonly outputs: pulumi.Output<HybridOutputs>;

    constructor(name: string, args: HybridArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:hybrid:Bridge", name, {}, opts);
        const c = args.config;
        const ws = args.workstationConfig;
        const gcpEnv = args.gcp;
        const ctx = gcpEnv.ctx;
        const credential = gcpEnv.workloadIdentity.workstation;
        if (!credential) throw new pulumi.ResourceError("gcp.hybrid needs gcp.workstationIdentity.enabled: the workstation authenticates with its X.509 credential", this);
        // Validated config (config/hybrid.ts hybridProblems): the image has its registry, data sync its buckets, a base image.
        const training = gcpEnv.identities.accounts.training;
        if (!training) throw new pulumi.ResourceError("the training service account is missing", this);

        const hosts = args.workstation.hosts;
        const users = ws.base.enabled ? ws.base.users.map((u) => u.name) : [];
        // The workstation's access comes after the cloud identities it acts as
        // (service account, X.509 provider and its IAM binding) and, on destroy,
        // goes before them; and after the host's users exist.
        const after: Record<string, pulumi.Input<pulumi.Resource>[]> = {};
        for (const h of hosts) after[h.name] = [gcpEnv.identities, gcpEnv.workloadIdentity, ...(args.workstation.base[h.name] ? [args.workstation.base[h.name]] : [])];

        this.identity = new WorkstationIdentity(
            `${name}-identity`,
            {
                hosts,
                config: c,
                credential,
                project: ctx.project,
                registryHosts: [`${ctx.region}-docker.pkg.dev`],
                users,
                gcsfuse: c.data.mode === "gcsfuse",
                after,
            },
            { parent: this },
        );

        // Pinned by digest; the schema requires it with the image (config/hybrid.ts).
        const baseImage = c.image.baseImage;
        const buildHost = buildHostOf(hosts, c.buildHost);
        if (c.image.enabled) {
            this.image = new TrainingImage(
                `${name}-image`,
                {
                    config: c.image,
                    host: buildHost,
                    repositoryUrl: gcpEnv.registry!.url,
                    baseImage: baseImage!,
                    // Built once the workstation is provisioned (Docker) and the repository and its grants exist.
                    dependsOn: [args.workstation, gcpEnv.registry!],
                },
                { parent: this },
            );
        }

        const envVars = pulumi
            .output({
                buckets: gcpEnv.storage.urls(),
                trainingSa: training.email,
                tensorboard: gcpEnv.vertex.tensorboard?.name ?? "",
                digest: this.image?.digest ?? "",
                uri: this.image?.uri ?? "",
                registry: gcpEnv.registry?.url ?? "",
            })
            .apply((v): Record<string, string> => ({
                AIHPC_PROJECT: ctx.project,
                AIHPC_REGION: ctx.region,
                AIHPC_REGISTRY: v.registry,
                AIHPC_IMAGE: v.digest,
                AIHPC_IMAGE_URI: v.uri,
                AIHPC_DATASETS_BUCKET: v.buckets.datasets ?? "",
                AIHPC_CHECKPOINTS_BUCKET: v.buckets.checkpoints ?? "",
                AIHPC_ARTIFACTS_BUCKET: v.buckets.artifacts ?? "",
                AIHPC_DATA_MODE: c.data.mode,
                AIHPC_DATASETS_DIR: c.data.datasetsPath,
                AIHPC_CHECKPOINTS_DIR: c.data.checkpointsPath,
                AIHPC_TENSORBOARD: v.tensorboard,
                AIHPC_EXPERIMENT: c.burst.experiment,
                AIHPC_TRAINING_SA: v.trainingSa,
                AIHPC_MACHINE_TYPE: c.burst.machineType,
                AIHPC_ACCELERATOR_TYPE: c.burst.accelerator.type,
                AIHPC_ACCELERATOR_COUNT: String(c.burst.accelerator.count),
                AIHPC_BOOT_DISK_GB: String(c.burst.bootDiskGb),
                AIHPC_SPOT: String(c.burst.spot),
            }));
        const dataAfter: Record<string, pulumi.Input<pulumi.Resource>[]> = {};
        for (const h of hosts) {
            const s = this.identity.steps[h.name];
            dataAfter[h.name] = [...after[h.name], s.credentials, ...(s.gcloud ? [s.gcloud] : [])];
        }
        this.data = new DataSync(
            `${name}-data`,
            { hosts, config: c.data, envFile: envVars.apply(envFileText), researchGroup: ws.base.researchGroup, certDir: credential.paths.dir, after: dataAfter },
            { parent: this },
        );
        const burstAfter: Record<string, pulumi.Input<pulumi.Resource>[]> = {};
        for (const h of hosts) burstAfter[h.name] = [...after[h.name], this.data.steps[h.name].env];
        this.burst = new Burst(`${name}-burst`, { hosts, after: burstAfter }, { parent: this });

        this.outputs = pulumi.output({
            image: this.image ? { uri: this.image.uri, digest: this.image.digest, baseImage: baseImage!, buildHost: buildHost.name } : undefined,
            env: envVars,
        }) as pulumi.Output<HybridOutputs>;
        this.registerOutputs({ outputs: this.outputs });
    }
}
