import * as fs from "fs";
import * as path from "path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { CloudNodesConfig } from "../../../config/cloud-nodes";
import { acceleratorsFor } from "../../../config/gcp";
import { GcpContext } from "../context";

/** The node bootstrap: the instances' startup script (settings come from metadata). */
export const NODE_BOOTSTRAP = path.join(__dirname, "scripts", "node-bootstrap.sh");
/** Network tag of cloud nodes: the firewall rules target it. */
export const CLOUD_NODE_TAG = "aihpc-cloud-node";
/** Debian 12, the workstation's release: same Slurm (22.05) from the same archive. */
export const NODE_IMAGE = "projects/debian-cloud/global/images/family/debian-12";

/**
 * What the controller's identity may do to cloud nodes, in two custom roles:
 * `launcher` under an IAM condition naming only the stack's cloud-node
 * instances (and their boot disks), the stack's template and subnet;
 * `lister` without one, because list and operation polling are checked
 * against the project, where a name condition cannot hold.
 */
export const LAUNCHER_PERMISSIONS = [
    "compute.disks.create",
    "compute.disks.setLabels",
    "compute.instanceTemplates.useReadOnly",
    "compute.instances.create",
    "compute.instances.delete",
    "compute.instances.get",
    "compute.instances.setLabels",
    "compute.instances.setMetadata",
    "compute.instances.setServiceAccount",
    "compute.instances.setTags",
    "compute.subnetworks.use",
];
export const LISTER_PERMISSIONS = ["compute.instances.list", "compute.zoneOperations.get"];

export interface CloudNodesArgs {
    ctx: GcpContext;
    config: CloudNodesConfig;
    /** Zones a resume tries, in order. */
    zones: string[];
    /** The nodes' own service account (components/gcp/identity `cloudNode`). */
    serviceAccountEmail: pulumi.Input<string>;
    /** Who creates and deletes the nodes: the workstation's (controller's) identity. */
    launcher: pulumi.Input<string>;
    network: pulumi.Input<string>;
    subnet: { id: pulumi.Input<string>; name: pulumi.Input<string> };
    /** The munge key secret (`projects/P/secrets/S`). */
    mungeSecret: pulumi.Input<string>;
    /**
     * slurmctld as the nodes reach it (through the tunnel) and its port; slurmAddress: what slurm.conf's SlurmctldHost
     * names, which the node bootstrap maps to `address` (the workstation's hosts keep theirs).
     */
    controller: { address: string; port: number; slurmAddress?: pulumi.Input<string> };
    slurmdPort: number;
}

/** `<prefix>-<stack>-cn-`: every cloud node's name starts with it (the IAM condition checks it). */
export function cloudNodePrefix(ctx: Pick<GcpContext, "naming">): string {
    return `${ctx.naming.name("cn", 60)}-`;
}

/** The custom roles' full names (what a grant names), known before they exist. */
export function cloudNodeRoleNames(ctx: Pick<GcpContext, "naming" | "project">): string[] {
    return ["launcher", "lister"].map((id) => `projects/${ctx.project}/roles/${ctx.naming.underscored(`cn-${id}`)}`);
}

/** The condition on the launcher role: only the stack's nodes, their disks, its template(s) and subnet. */
export function launcherCondition(project: string, nodePrefix: string, templatePrefix: string, region: string, subnet: string): string {
    return [
        `(resource.type == "compute.googleapis.com/Instance" && resource.name.extract("/instances/{name}").startsWith("${nodePrefix}"))`,
        `(resource.type == "compute.googleapis.com/Disk" && resource.name.extract("/disks/{name}").startsWith("${nodePrefix}"))`,
        `(resource.type == "compute.googleapis.com/InstanceTemplate" && resource.name.extract("/instanceTemplates/{name}").startsWith("${templatePrefix}"))`,
        `(resource.type == "compute.googleapis.com/Subnetwork" && resource.name == "projects/${project}/regions/${region}/subnetworks/${subnet}")`,
    ].join(" || ");
}

/**
 * The Google Cloud side of the cloud partition (gcp.cloudNodes): the instance
 * template nodes are created from (Debian 12, no public IP, the stack's
 * subnet, the node bootstrap as startup script), the two narrow roles the
 * controller creates and deletes them with, and firewall rules that admit
 * Slurm's ports only from the tunnel and between nodes. The instances
 * themselves are not in the graph: Slurm creates and deletes them
 * (components/hybrid/cloud-nodes/scripts). The template is replaced, never
 * edited (create before delete), so a resume never meets a missing template.
 */
export class CloudNodes extends pulumi.ComponentResource {
    public readonly template: gcp.compute.InstanceTemplate;
    public readonly nodePrefix: string;
    public readonly launcherRole: gcp.projects.IAMCustomRole;
    public readonly listerRole: gcp.projects.IAMCustomRole;
    public readonly firewalls: gcp.compute.Firewall[];
    /** Grants of the roles: on destroy, the instances must be gone before these. */
    public readonly grants: pulumi.CustomResource[];

    constructor(name: string, args: CloudNodesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:CloudNodes", name, {}, opts);
        const { ctx, config: c } = args;
        const n = ctx.naming;
        this.nodePrefix = cloudNodePrefix(ctx);
        const templatePrefix = `${n.name("cn-tpl", 37)}-`;
        const labels = { ...ctx.labels, role: "cloud-node", "slurm-partition": c.partition.replace(/_/g, "-") };
        const fit = acceleratorsFor(c.machineType);
        // Children wait for what the component waits for (a component's dependsOn is not inherited): on destroy they go first.
        const child: pulumi.CustomResourceOptions = { parent: this, dependsOn: opts?.dependsOn };

        this.template = new gcp.compute.InstanceTemplate(
            `${name}-template`,
            {
                project: ctx.project,
                namePrefix: templatePrefix,
                description: `aihpc cloud node of Slurm partition '${c.partition}'`,
                machineType: c.machineType,
                // N1 takes its GPUs as accelerators; A2, A3 and G2 come with theirs.
                guestAccelerators: fit.builtIn ? undefined : [{ type: c.gpu.type.toLowerCase().replace(/_/g, "-"), count: c.gpu.count }],
                disks: [{ boot: true, autoDelete: true, sourceImage: NODE_IMAGE, diskSizeGb: c.bootDiskGb, diskType: "pd-balanced", labels }],
                // No accessConfigs: no public IP. Packages come through the subnet's Cloud NAT, Google APIs through Private Google Access.
                networkInterfaces: [{ network: args.network, subnetwork: args.subnet.id }],
                serviceAccount: { email: args.serviceAccountEmail, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
                scheduling: c.spot
                    ? { provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "DELETE" }
                    : // A node that comes back after a host event would surprise slurmctld: Slurm resumes it instead.
                      { provisioningModel: "STANDARD", preemptible: false, automaticRestart: false, onHostMaintenance: "TERMINATE" },
                // Secure Boot would refuse the unsigned DKMS-built NVIDIA module; vTPM and integrity monitoring stay on.
                shieldedInstanceConfig: { enableSecureBoot: false, enableVtpm: true, enableIntegrityMonitoring: true },
                tags: [CLOUD_NODE_TAG],
                labels,
                metadata: {
                    "startup-script": fs.readFileSync(NODE_BOOTSTRAP, "utf8"),
                    "aihpc-munge-secret": args.mungeSecret,
                    "aihpc-conf-server": `${args.controller.address}:${args.controller.port}`,
                    ...(args.controller.slurmAddress !== undefined ? { "aihpc-controller-slurm-address": args.controller.slurmAddress } : {}),
                    "aihpc-gpu": "1",
                    "enable-oslogin": "TRUE",
                    "block-project-ssh-keys": "TRUE",
                },
            },
            child,
        );

        const role = (id: string, title: string, permissions: string[]) =>
            new gcp.projects.IAMCustomRole(
                `${name}-${id}-role`,
                { project: ctx.project, roleId: n.underscored(`cn-${id}`), title: `${n.name("cn")} ${title}`, description: `aihpc: ${title} (gcp.cloudNodes)`, permissions, stage: "GA" },
                child,
            );
        this.launcherRole = role("launcher", "create and delete the stack's cloud nodes", LAUNCHER_PERMISSIONS);
        this.listerRole = role("lister", "list instances and poll operations", LISTER_PERMISSIONS);
        const condition = pulumi
            .output(args.subnet.name)
            .apply((subnet) => launcherCondition(ctx.project, this.nodePrefix, templatePrefix, ctx.region, subnet));
        // Not through applyIam: a custom role's name is known only once it exists. The member is the stack's own service account.
        const grant = (gname: string, r: gcp.projects.IAMCustomRole, member: pulumi.Input<string>, expression?: pulumi.Input<string>) => [
            new gcp.projects.IAMMember(
                `${gname}-iam`,
                {
                    project: r.project,
                    role: r.name,
                    member,
                    condition: expression ? { title: "only-stack-cloud-nodes", description: "Only the stack's cloud-node instances, disks, template and subnet", expression } : undefined,
                },
                child,
            ),
        ];
        // Project-level grants are additive; the launcher's carries the name condition.
        this.grants = [
            ...grant(`${name}-launcher`, this.launcherRole, args.launcher, condition),
            ...grant(`${name}-lister`, this.listerRole, args.launcher),
        ];

        const [lo, hi] = c.srunPortRange.split("-");
        const ports = [String(args.slurmdPort), `${lo}-${hi}`];
        const rule = (id: string, extra: Partial<gcp.compute.FirewallArgs>) =>
            new gcp.compute.Firewall(
                `${name}-${id}`,
                {
                    project: ctx.project,
                    name: n.name(id),
                    network: args.network,
                    direction: "INGRESS",
                    priority: 1000,
                    targetTags: [CLOUD_NODE_TAG],
                    allows: [{ protocol: "tcp", ports }],
                    logConfig: { metadata: "INCLUDE_ALL_METADATA" },
                    ...extra,
                },
                child,
            );
        this.firewalls = [
            // slurmctld and srun on the workstation reach slurmd through the tunnel, from the tunnel's addresses only.
            rule("cn-slurm", { description: "aihpc: Slurm (slurmd, srun) from the workstation's tunnel", sourceRanges: [c.tunnelCidr] }),
            // Multi-node jobs: slurmstepd and srun between nodes.
            rule("cn-peers", { description: "aihpc: Slurm between cloud nodes", sourceTags: [CLOUD_NODE_TAG] }),
        ];
        this.registerOutputs({ template: this.template.selfLink, nodePrefix: this.nodePrefix });
    }
}
