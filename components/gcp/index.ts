import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { GcpConfig } from "../../config";
import { gcpZone } from "../../config/gcp";
import { CloudNodesConfig, cloudNodeZones } from "../../config/cloud-nodes";
import { ArtifactRegistry } from "./artifact-registry";
import { Budget } from "./budget";
import { CLOUD_NODE_TAG, cloudNodePrefix, cloudNodeRoleNames, CloudNodes } from "./cloud-nodes";
import { TunnelGateway } from "./cloud-nodes/gateway";
import { wgPrivateKey, wgPublicKey } from "../hybrid/cloud-nodes/wireguard";
import { GcpContext } from "./context";
import { applyIam, IamArgs } from "./iam";
import { ExtraRoles, Identities, Identity } from "./identity";
import { Naming, stackLabels } from "./naming";
import { Network } from "./network";
import { ProjectServices } from "./services";
import { SecretSpec, Secrets } from "./secrets";
import { BucketRole, Storage } from "./storage";
import { Vertex } from "./vertex";
import { Workbench } from "./workbench";
import { WorkloadIdentity, WorkstationCredential } from "./workload-identity";

export { Naming, stackLabels } from "./naming";
export { normalizeIam, applyIam, BASIC_ROLES, PUBLIC_MEMBERS } from "./iam";
export type { IamArgs, IamGrant, NormalizedGrant } from "./iam";
export type { GcpContext } from "./context";

export interface GcpEnvironmentArgs {
    config: GcpConfig;
    /** Default: the running stack's name. */
    stack?: string;
    /** Research users with certificates of their own, and each host's user CA certificate (the bridge's UserCertificates). */
    workstationUsers?: { names: string[]; caCerts: pulumi.Input<string>[] };
    /** The cloud partition (gcp.cloudNodes) with what it needs of the workstation's Slurm; absent or off: none. */
    cloudNodes?: {
        config: CloudNodesConfig;
        /**
         * Where nodes reach slurmctld (the tunnel's controller address) and its port; slurmAddress: what slurm.conf's
         * SlurmctldHost names (the controller's own address or name), which each node maps to `address`.
         */
        controller: { address: string; port: number; slurmAddress?: pulumi.Input<string> };
        slurmdPort: number;
        /** The cluster's munge key (base64), as the workstation's Slurm holds it in state. Secret. */
        mungeKey: pulumi.Input<string>;
        /** With gcp.cloudNodes.tunnel on: the controller's WireGuard public key (its key step's output). */
        controllerPublicKey?: pulumi.Input<string>;
    };
}

/** Stack outputs of the Google Cloud side. */
export interface GcpOutputs {
    project: string;
    region: string;
    buckets: Record<string, string>;
    registry: { images?: string; dockerHubCache?: string };
    serviceAccounts: Record<string, string>;
    workloadIdentity: { pool: string; githubProvider?: string; githubDeployProvider?: string; workstationProvider?: string };
    /** What the workstation writes to authenticate as its service account (the hybrid component delivers it). */
    workstationGcloud?: {
        credentialConfig: string;
        certificateConfig: string;
        paths: WorkstationCredential["paths"];
        subject: string;
        /** Research users' subjects and principals (each acts as themselves, not as the workstation's account). */
        users: Record<string, { subject: string; principal: string }>;
        labPrincipalSet: string;
    };
    tensorboard?: string;
    metadataStore?: string;
    endpoint?: string;
    workbench?: string;
    /** The cloud partition: its instance template and node name prefix. */
    cloudNodes?: {
        template: string;
        nodePrefix: string;
        zones: string[];
        mungeSecret: string;
        /** With the tunnel: where the controller dials, the gateway's public key, its instance and key secret. */
        tunnel?: { endpoint: string; gatewayPublicKey: string; gateway: string; keySecret: string };
    };
}

/**
 * Pulumi's state and its secrets, split between the CI identities: the deploy
 * identity reads and writes the state bucket and encrypts and decrypts with the
 * state's KMS key; the preview identity, which any ref of the repository can
 * use, only reads the bucket and has nothing on the key, so code on an
 * unreviewed branch cannot read the stack's secrets. Both are additive grants on
 * resources the stack does not own (made before the first `up`).
 */
export function stateAccess(
    name: string,
    gh: NonNullable<GcpConfig["github"]>,
    members: { deploy: pulumi.Input<string>; preview: pulumi.Input<string> },
    parent: pulumi.Resource,
    allowUserMembers: boolean,
): void {
    const allow = { allowUserMembers, additiveOnly: true };
    if (gh.stateBucket) {
        const bucket = gh.stateBucket;
        applyIam(
            `${name}-bucket`,
            {
                iamBindingsAdditive: {
                    deploy: { role: "roles/storage.objectUser", member: members.deploy },
                    preview: { role: "roles/storage.objectViewer", member: members.preview },
                },
            },
            { member: (n, role, member, condition, o) => new gcp.storage.BucketIAMMember(n, { bucket, role, member, condition }, o) },
            parent,
            allow,
        );
    }
    if (gh.stateKmsKey) {
        const cryptoKeyId = gh.stateKmsKey;
        applyIam(
            `${name}-key`,
            { iamBindingsAdditive: { deploy: { role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: members.deploy } } },
            { member: (n, role, member, condition, o) => new gcp.kms.CryptoKeyIAMMember(n, { cryptoKeyId, role, member, condition }, o) },
            parent,
            allow,
        );
    }
}

/** The APIs each part needs. */
export function requiredServices(c: GcpConfig, cloudNodes = false): string[] {
    const s = ["iam.googleapis.com", "iamcredentials.googleapis.com", "sts.googleapis.com", "cloudresourcemanager.googleapis.com", "storage.googleapis.com", "aiplatform.googleapis.com", "billingbudgets.googleapis.com", "secretmanager.googleapis.com"];
    if (c.artifactRegistry.enabled) s.push("artifactregistry.googleapis.com", "containerscanning.googleapis.com");
    if (c.network.enabled) s.push("compute.googleapis.com");
    if (c.vertex.workbench.enabled) s.push("notebooks.googleapis.com", "compute.googleapis.com");
    if (c.budget.pubsubNotifications) s.push("pubsub.googleapis.com");
    if (cloudNodes) s.push("compute.googleapis.com", "logging.googleapis.com");
    return [...new Set(s)].sort();
}

/**
 * The Google Cloud side of the stack, one component per logical entity:
 * project services, identities (service accounts, workload identity),
 * network, storage, Artifact Registry, Vertex AI (+ Workbench), budget and
 * secrets. Access between them is granted here, in the one IAM shape, so the
 * whole access model reads in one place.
 */
export class GcpEnvironment extends pulumi.ComponentResource {
    public readonly ctx: GcpContext;
    public readonly identities: Identities;
    public readonly workloadIdentity: WorkloadIdentity;
    public readonly storage: Storage;
    public readonly registry?: ArtifactRegistry;
    public readonly network?: Network;
    public readonly vertex: Vertex;
    public readonly workbench?: Workbench;
    public readonly budget: Budget;
    public readonly secrets: Secrets;
    public readonly cloudNodes?: CloudNodes;
    /** gcp.cloudNodes.tunnel: the gateway, and its public key (derived from the secret key in the graph). */
    public readonly tunnelGateway?: TunnelGateway;
    public readonly tunnelGatewayPublicKey?: pulumi.Output<string>;
    public readonly outputs: pulumi.Output<GcpOutputs>;

    constructor(name: string, args: GcpEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:Environment", name, {}, opts);
        const c = args.config;
        // Every name was checked against its limit with the config, before any resource (config/load.ts, namingProblems).
        const naming = new Naming(c.prefix, args.stack ?? pulumi.getStack(), c.project);
        const ctx: GcpContext = { project: c.project, region: c.region, zone: gcpZone(c), naming, labels: stackLabels(c.labels, naming), allowUserMembers: c.allowUserMembers };
        this.ctx = ctx;

        const cn = args.cloudNodes?.config.enabled ? args.cloudNodes : undefined;
        const services = new ProjectServices(`${name}-services`, { ctx, services: requiredServices(c, cn !== undefined) }, { parent: this });
        const child = { parent: this, dependsOn: [services] };

        // Identities first: every other part grants them access.
        const ids: Identity[] = ["workstation", "training"];
        if (c.vertex.workbench.enabled) ids.push("workbench");
        if (c.github) ids.push("ciPreview", "ciDeploy");
        if (cn) ids.push("cloudNode");
        const tunnel = cn?.config.tunnel.enabled ? cn : undefined;
        if (tunnel) {
            if (tunnel.controllerPublicKey === undefined) throw new pulumi.ResourceError("gcp.cloudNodes.tunnel: the controller's public key is missing (components/stack.ts makes it)", this);
            ids.push("tunnelGateway");
        }
        const has = (id: Identity) => ids.includes(id);
        // The workstation submits Vertex jobs that run as the training account;
        // the deployer attaches the Workbench account to the instance it creates.
        const actAs: Partial<Record<Identity, Identity[]>> = { training: ["workstation"] };
        if (has("workbench") && has("ciDeploy")) actAs.workbench = ["ciDeploy"];
        // The deployer creates the gateway VM, which runs as its own account.
        if (has("tunnelGateway") && has("ciDeploy")) actAs.tunnelGateway = ["ciDeploy"];
        // The controller creates cloud nodes that run as their own account: actAs on that account only.
        if (has("cloudNode")) actAs.cloudNode = ["workstation"];
        // Research users (the lab's principal set) also run jobs as the training account: that grant waits for the pool.
        const labUsers = (args.workstationUsers?.names.length ?? 0) > 0 && c.workstationIdentity.enabled;
        // The cloud partition: CI previews read, and deploys manage, instance templates and custom roles; the
        // deployer may then grant the two custom roles (its projectIamAdmin condition lists them).
        const extra: ExtraRoles = cn
            ? {
                  roles: { ciPreview: ["roles/compute.viewer", "roles/iam.roleViewer"], ciDeploy: ["roles/compute.instanceAdmin.v1", "roles/iam.roleAdmin"] },
                  grantable: cloudNodeRoleNames(ctx),
              }
            : {};
        this.identities = new Identities(`${name}-identity`, { ctx, identities: ids, actAs, deferActAs: labUsers ? ["training"] : [], extra }, child);
        const members = (...list: Identity[]) => list.filter(has).map((id) => this.identities.member(id));

        this.workloadIdentity = new WorkloadIdentity(
            `${name}-wif`,
            {
                ctx,
                github: c.github,
                workstation: c.workstationIdentity,
                users: args.workstationUsers,
                accounts: { workstation: this.identities.accounts.workstation!, ciPreview: this.identities.accounts.ciPreview, ciDeploy: this.identities.accounts.ciDeploy },
            },
            child,
        );

        // Research users act as themselves: the lab's principal set gets the workstation's data,
        // registry and Vertex access (and may run jobs as the training account); none of the
        // workstation account's own grants (Secret Manager, impersonation) reach them.
        const lab = labUsers ? [this.workloadIdentity.workstation!.labPrincipalSet] : [];
        const ws = (...list: Identity[]) => [...members(...list), ...(list.includes("workstation") ? lab : [])];
        if (labUsers) this.identities.grantActAs("training", [...members("workstation"), ...lab]);
        if (lab.length) {
            applyIam(
                `${name}-lab`,
                { iamBindingsAdditive: { "aiplatform-user": { role: "roles/aiplatform.user", member: lab[0] } } },
                { member: (n, role, member, condition, o) => new gcp.projects.IAMMember(n, { project: ctx.project, role, member, condition }, o) },
                this,
                { allowUserMembers: ctx.allowUserMembers, additiveOnly: true },
            );
        }
        if (c.github) stateAccess(`${name}-state`, c.github, { deploy: this.identities.member("ciDeploy"), preview: this.identities.member("ciPreview") }, this, ctx.allowUserMembers);

        const bucketIam: Record<BucketRole, IamArgs> = {
            datasets: { iam: { "roles/storage.objectUser": ws("workstation"), "roles/storage.objectViewer": members("training", "workbench", "cloudNode") } },
            artifacts: { iam: { "roles/storage.objectUser": ws("workstation", "training", "workbench") } },
            checkpoints: { iam: { "roles/storage.objectUser": ws("workstation", "training", "cloudNode"), "roles/storage.objectViewer": members("workbench") } },
        };
        this.storage = new Storage(`${name}-storage`, { ctx, config: c.buckets, iam: bucketIam }, child);

        if (c.artifactRegistry.enabled) {
            this.registry = new ArtifactRegistry(
                `${name}-registry`,
                {
                    ctx,
                    config: c.artifactRegistry,
                    iam: { iam: { "roles/artifactregistry.writer": ws("workstation"), "roles/artifactregistry.reader": members("training", "workbench") } },
                    cacheIam: { iam: { "roles/artifactregistry.reader": ws("workstation", "training", "workbench") } },
                },
                child,
            );
        }
        if (c.network.enabled) {
            this.network = new Network(`${name}-network`, { ctx, subnetCidr: c.network.subnetCidr, flowLogs: c.network.flowLogs }, child);
        }
        this.vertex = new Vertex(`${name}-vertex`, { ctx, config: c.vertex }, child);
        if (c.vertex.workbench.enabled) {
            if (!this.network) throw new pulumi.ResourceError("gcp.vertex.workbench needs gcp.network.enabled", this);
            this.workbench = new Workbench(
                `${name}-workbench`,
                {
                    ctx,
                    config: c.vertex.workbench,
                    serviceAccountEmail: this.identities.accounts.workbench!.email,
                    network: this.network.network.id,
                    subnet: this.network.subnet.id,
                },
                child,
            );
        }
        this.budget = new Budget(`${name}-budget`, { ctx, config: c.budget }, child);

        const accessorOf: Record<string, Identity> = { workstation: "workstation", training: "training", workbench: "workbench" };
        const secretSpecs: Record<string, SecretSpec> = {};
        for (const [id, s] of Object.entries(c.secrets)) {
            const readers = members(...s.accessors.map((a) => accessorOf[a]));
            secretSpecs[id] = readers.length ? { iam: { "roles/secretmanager.secretAccessor": readers } } : {};
        }
        const wsCred = this.workloadIdentity.workstation;
        if (wsCred) {
            // The workstation's client key, so it can be delivered again without reading Pulumi state. Nobody is granted access.
            secretSpecs["ws-x509-key"] = { value: wsCred.keyPem, description: "Private key of the workstation's X.509 workload identity certificate" };
        }
        if (cn) {
            // The cluster's munge key, from the workstation's Slurm (already a secret in state): only cloud nodes read it.
            secretSpecs["munge-key"] = {
                value: cn.mungeKey,
                valueIsBase64: true,
                description: "Munge key of the workstation's Slurm cluster, read by cloud nodes at boot",
                iam: { "roles/secretmanager.secretAccessor": members("cloudNode") },
            };
        }
        let gatewayKey: pulumi.Output<string> | undefined;
        if (tunnel) {
            // The gateway's private key: made in the graph (secret in state, like the munge key), stored in Secret Manager,
            // read at boot by the gateway's own account only. Never in metadata (project viewers read that) or argv.
            const seed = new random.RandomBytes(`${name}-wg-gateway-key`, { length: 32 }, { parent: this });
            gatewayKey = pulumi.secret(seed.base64.apply(wgPrivateKey));
            this.tunnelGatewayPublicKey = pulumi.unsecret(gatewayKey.apply(wgPublicKey));
            secretSpecs["wg-gateway-key"] = {
                value: gatewayKey,
                description: "WireGuard private key of the cloud partition's tunnel gateway, read by the gateway at boot",
                iam: { "roles/secretmanager.secretAccessor": members("tunnelGateway") },
            };
        }
        this.secrets = new Secrets(`${name}-secrets`, { ctx, secrets: secretSpecs }, child);

        if (cn) {
            if (!this.network) throw new pulumi.ResourceError("gcp.cloudNodes needs gcp.network.enabled", this);
            const munge = this.secrets.secrets["munge-key"];
            this.cloudNodes = new CloudNodes(
                `${name}-cloud-nodes`,
                {
                    ctx,
                    config: cn.config,
                    zones: cloudNodeZones(cn.config, ctx.zone),
                    serviceAccountEmail: this.identities.accounts.cloudNode!.email,
                    launcher: this.identities.member("workstation"),
                    network: this.network.network.id,
                    subnet: { id: this.network.subnet.id, name: this.network.subnet.name },
                    mungeSecret: munge.name,
                    controller: cn.controller,
                    slurmdPort: cn.slurmdPort,
                },
                // After the node account, its grants and the network; on destroy, before them.
                { ...child, dependsOn: [services, this.identities, this.secrets, this.storage, this.network] },
            );
        }
        if (tunnel && this.network && this.tunnelGatewayPublicKey) {
            this.tunnelGateway = new TunnelGateway(
                `${name}-tunnel`,
                {
                    ctx,
                    config: tunnel.config,
                    zone: ctx.zone,
                    network: this.network.network.id,
                    subnet: this.network.subnet.id,
                    serviceAccountEmail: this.identities.accounts.tunnelGateway!.email,
                    keySecret: this.secrets.secrets["wg-gateway-key"].name,
                    gatewayPublicKey: this.tunnelGatewayPublicKey,
                    controllerPublicKey: tunnel.controllerPublicKey!,
                    nodeTag: CLOUD_NODE_TAG,
                    slurmctldPort: tunnel.controller.port,
                },
                // After its account, its key's secret and grant, and the network; on destroy, before them.
                { ...child, dependsOn: [services, this.identities, this.secrets, this.network] },
            );
        }

        this.outputs = pulumi.output({
            project: c.project,
            region: c.region,
            buckets: this.storage.urls(),
            registry: { images: this.registry?.url, dockerHubCache: this.registry?.cacheUrl },
            serviceAccounts: this.identities.emails(),
            workloadIdentity: { pool: this.workloadIdentity.pool.name, githubProvider: this.workloadIdentity.githubProvider?.name,
                githubDeployProvider: this.workloadIdentity.githubDeployProvider?.name,
                workstationProvider: this.workloadIdentity.x509Provider?.name },
            workstationGcloud: wsCred
                ? {
                      credentialConfig: wsCred.credentialConfig,
                      certificateConfig: wsCred.certificateConfig,
                      paths: wsCred.paths,
                      subject: wsCred.subject,
                      users: wsCred.users,
                      labPrincipalSet: wsCred.labPrincipalSet,
                  }
                : undefined,
            tensorboard: this.vertex.tensorboard?.name,
            metadataStore: this.vertex.metadataStore?.name,
            endpoint: this.vertex.endpoint?.name,
            workbench: this.workbench?.instance.name,
            cloudNodes: this.cloudNodes
                ? {
                      template: this.cloudNodes.template.selfLink,
                      nodePrefix: cloudNodePrefix(ctx),
                      zones: cloudNodeZones(cn!.config, ctx.zone),
                      mungeSecret: this.secrets.secrets["munge-key"].name,
                      tunnel: this.tunnelGateway
                          ? {
                                endpoint: this.tunnelGateway.endpoint,
                                gatewayPublicKey: this.tunnelGatewayPublicKey,
                                gateway: this.tunnelGateway.instance.selfLink,
                                keySecret: this.secrets.secrets["wg-gateway-key"].name,
                            }
                          : undefined,
                  }
                : undefined,
        }) as pulumi.Output<GcpOutputs>;
        this.registerOutputs({ outputs: this.outputs });
    }
}
