import * as pulumi from "@pulumi/pulumi";
import { HybridConfig } from "../../config/hybrid";
import { WorkstationCredential } from "../gcp/workload-identity";
import { Host } from "../workstation/host";
import { Ready, readyOn } from "../workstation/ready";
import { Burst } from "./burst";
import { DataSync, envFileText } from "./data";
import { WorkstationIdentity } from "./identity";
import { TrainingImage } from "./images";

export { contextTag, dockerHost, TrainingImage, TRAINING_CONTEXT } from "./images";
export { envFileText, ENV_FILE } from "./data";
export { gcloudPackages } from "./identity";
export { BURST_COMMAND, TRAIN_TEMPLATE } from "./burst";

/** What the bridge uses of the workstation side. */
export interface BridgeWorkstation {
    hosts: Host[];
    /** Research users (each gets the credentials and Docker's helper) and their group. */
    users: string[];
    researchGroup: string;
    /** The base system in place, by host (the Google Cloud CLI installs through apt; teardown order). */
    baseReady: Ready;
    /** The research users exist, by host (where the stack manages them). */
    usersReady: Ready;
    /** Docker running, by host: the image is built on one of them. */
    dockerReady: Ready;
    /** Each host's research-user certificate step (identity/user-certs.ts), made before the cloud side. */
    userCerts?: Record<string, pulumi.Resource>;
}

/** What the bridge uses of the Google Cloud side (pulumi-eks's CoreData, for this bridge). */
export interface BridgeCloud {
    project: string;
    region: string;
    /** The workstation's X.509 workload identity credential. */
    credential: WorkstationCredential;
    /** The training service account Vertex AI jobs run as. */
    trainingServiceAccount: pulumi.Input<string>;
    /** The Artifact Registry repository the image goes to, when there is one. */
    registry?: { url: pulumi.Input<string>; resource: pulumi.Resource };
    /** Bucket URLs by role (datasets, checkpoints, artifacts). */
    buckets: pulumi.Input<Record<string, string>>;
    tensorboard?: pulumi.Input<string>;
    /**
     * The identities the workstation acts as (service accounts, the workload
     * identity pool and its grants): host steps come after them and, on
     * destroy, go before them.
     */
    identities: pulumi.Resource[];
}

export interface HybridArgs {
    config: HybridConfig;
    workstation: BridgeWorkstation;
    cloud: BridgeCloud;
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
export class Bridge extends pulumi.ComponentResource {
    public readonly identity: WorkstationIdentity;
    public readonly image?: TrainingImage;
    public readonly data: DataSync;
    public readonly burst: Burst;
    public readonly outputs: pulumi.Output<HybridOutputs>;

    constructor(name: string, args: HybridArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:hybrid:Bridge", name, {}, opts);
        const c = args.config;
        const ws = args.workstation;
        const cloud = args.cloud;
        const credential = cloud.credential;
        const hosts = ws.hosts;
        const users = ws.users;
        // The workstation's access comes after the cloud identities it acts as
        // (service account, X.509 provider and its IAM binding) and, on destroy,
        // goes before them; and after apt and the host's users are ready.
        const waitFor: Record<string, pulumi.Input<pulumi.Resource>[]> = {};
        for (const h of hosts) waitFor[h.name] = [...cloud.identities, ...readyOn(h.name, ws.baseReady, ws.usersReady)];

        this.identity = new WorkstationIdentity(
            `${name}-identity`,
            {
                hosts,
                config: c,
                credential,
                project: cloud.project,
                registryHosts: [`${cloud.region}-docker.pkg.dev`],
                users,
                userCerts: ws.userCerts,
                gcsfuse: c.data.mode === "gcsfuse",
                waitFor,
            },
            { parent: this },
        );

        const buildHost = buildHostOf(hosts, c.buildHost);
        const image = c.image;
        // With the image on, the schema requires the registry (config/hybrid.ts hybridProblems).
        if (image.enabled && cloud.registry) {
            this.image = new TrainingImage(
                `${name}-image`,
                {
                    config: image,
                    host: buildHost,
                    repositoryUrl: cloud.registry.url,
                    baseImage: image.baseImage,
                    // Built once Docker runs on the build host and the repository and its grants exist.
                    dependsOn: [...readyOn(buildHost.name, ws.dockerReady), cloud.registry.resource],
                },
                { parent: this },
            );
        }

        const envVars = pulumi
            .output({
                buckets: cloud.buckets,
                trainingSa: cloud.trainingServiceAccount,
                tensorboard: cloud.tensorboard ?? "",
                digest: this.image?.digest ?? "",
                uri: this.image?.uri ?? "",
                registry: cloud.registry?.url ?? "",
            })
            .apply((v): Record<string, string> => ({
                AIHPC_PROJECT: cloud.project,
                AIHPC_REGION: cloud.region,
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
            dataAfter[h.name] = [...waitFor[h.name], s.credentials, ...(s.gcloud ? [s.gcloud] : [])];
        }
        this.data = new DataSync(
            `${name}-data`,
            { hosts, config: c.data, envFile: envVars.apply(envFileText), researchGroup: ws.researchGroup, certDir: credential.paths.dir, waitFor: dataAfter },
            { parent: this },
        );
        const burstAfter: Record<string, pulumi.Input<pulumi.Resource>[]> = {};
        for (const h of hosts) burstAfter[h.name] = [...waitFor[h.name], this.data.steps[h.name].env];
        this.burst = new Burst(`${name}-burst`, { hosts, waitFor: burstAfter }, { parent: this });

        this.outputs = pulumi.output({
            image: this.image && image.enabled ? { uri: this.image.uri, digest: this.image.digest, baseImage: image.baseImage, buildHost: buildHost.name } : undefined,
            env: envVars,
        }) as pulumi.Output<HybridOutputs>;
        this.registerOutputs({ outputs: this.outputs });
    }
}
