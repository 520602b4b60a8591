import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GcpContext } from "../context";
import { applyIam, IamArgs, IamGrant, IamTarget } from "../iam";
import { serviceAccountIds } from "../naming";

export type Identity = "workstation" | "training" | "workbench" | "ciPreview" | "ciDeploy" | "cloudNode" | "tunnelGateway";

const accountIds: Record<Identity, string> = serviceAccountIds;

const descriptions: Record<Identity, string> = {
    workstation: "aihpc workstation: pushes images, syncs data, submits Vertex jobs (keyless: X.509 workload identity)",
    training: "aihpc Vertex training jobs: reads datasets and images, writes checkpoints and artifacts",
    workbench: "aihpc Workbench instance: reads datasets, writes artifacts",
    ciPreview: "aihpc CI preview: read-only, any ref of the repository (keyless: GitHub OIDC)",
    ciDeploy: "aihpc CI deploy: applies the stack from the deploy branch (keyless: GitHub OIDC); admin roles by design",
    cloudNode: "aihpc cloud nodes (Slurm partition in Compute Engine): read the munge key and datasets, write checkpoints and logs",
    tunnelGateway: "aihpc tunnel gateway (WireGuard to the workstation's Slurm controller): read its own key, write logs",
};

/** Roles the stack's project-level grants use; the deployer may grant only these. */
const RUNTIME = ["roles/logging.logWriter", "roles/monitoring.metricWriter"];

/**
 * Project-level roles of each identity. No basic roles; resource-level access
 * (buckets, repositories, secrets) is granted on the resource, not here.
 */
export const projectRoles: Record<Identity, string[]> = {
    workstation: ["roles/aiplatform.user", ...RUNTIME],
    training: ["roles/aiplatform.user", ...RUNTIME],
    workbench: ["roles/aiplatform.user", ...RUNTIME],
    // Logs only: the munge key, datasets and checkpoints are granted on those resources (policies: cloud-node-sa-project-roles).
    cloudNode: ["roles/logging.logWriter"],
    // Logs only: its key secret is granted on the secret (policies: cloud-node-sa-project-roles).
    tunnelGateway: ["roles/logging.logWriter"],
    ciPreview: [
        "roles/browser",
        "roles/iam.securityReviewer",
        "roles/iam.serviceAccountViewer",
        "roles/iam.workloadIdentityPoolViewer",
        "roles/serviceusage.serviceUsageViewer",
        "roles/compute.networkViewer",
        "roles/storage.bucketViewer",
        "roles/artifactregistry.reader",
        "roles/aiplatform.viewer",
        "roles/notebooks.viewer",
        "roles/secretmanager.viewer",
        "roles/pubsub.viewer",
    ],
    ciDeploy: [
        "roles/serviceusage.serviceUsageAdmin",
        "roles/compute.networkAdmin",
        "roles/compute.securityAdmin",
        "roles/storage.admin",
        "roles/artifactregistry.admin",
        "roles/aiplatform.admin",
        "roles/notebooks.admin",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.workloadIdentityPoolAdmin",
        "roles/secretmanager.admin",
        "roles/pubsub.admin",
        // Granting roles is limited, by condition, to the roles this stack grants.
        "roles/resourcemanager.projectIamAdmin",
    ],
};

/** The project roles the deployer may grant (the condition on its projectIamAdmin). */
export function grantableRoles(extra: ExtraRoles = {}): string[] {
    const roles = new Set<string>();
    const of = (id: Identity) => [...projectRoles[id], ...(extra.roles?.[id] ?? [])];
    for (const id of ["workstation", "training", "workbench", "ciPreview"] as Identity[]) of(id).forEach((r) => roles.add(r));
    of("ciDeploy").filter((r) => r !== "roles/resourcemanager.projectIamAdmin").forEach((r) => roles.add(r));
    (extra.grantable ?? []).forEach((r) => roles.add(r));
    return [...roles].sort();
}

/** Project roles an optional part adds (the cloud partition: CI must manage templates and custom roles). */
export interface ExtraRoles {
    roles?: Partial<Record<Identity, string[]>>;
    /** Roles the stack grants that are not any identity's project role (custom roles granted with a condition). */
    grantable?: string[];
}

export interface IdentityArgs {
    ctx: GcpContext;
    /** The service accounts to make; the others are left out. */
    identities: Identity[];
    /** Who may act as whom: `{ training: ["workstation"] }` grants the workstation `serviceAccountUser` on the training account. */
    actAs?: Partial<Record<Identity, Identity[]>>;
    /** Identities in actAs whose grant the caller makes later with grantActAs (to add members of its own). */
    deferActAs?: Identity[];
    extra?: ExtraRoles;
}

/** IAM on one service account, in the shared shape. */
export function serviceAccountIam(sa: gcp.serviceaccount.Account): IamTarget {
    return {
        binding: (n, role, members, o) => new gcp.serviceaccount.IAMBinding(n, { serviceAccountId: sa.name, role, members }, o),
        member: (n, role, member, condition, o) => new gcp.serviceaccount.IAMMember(n, { serviceAccountId: sa.name, role, member, condition }, o),
    };
}

/**
 * One dedicated service account per job, least-privilege project roles, and
 * no service-account keys anywhere: the workstation and CI authenticate through
 * workload identity federation (see ../workload-identity).
 */
export class Identities extends pulumi.ComponentResource {
    public readonly accounts: Partial<Record<Identity, gcp.serviceaccount.Account>> = {};

    constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:Identities", name, {}, opts);
        const { ctx } = args;
        const missing = Object.entries(args.actAs ?? {}).flatMap(([id, actors]) => [id, ...actors!]).filter((x) => !args.identities.includes(x as Identity));
        if (missing.length) throw new pulumi.ResourceError(`actAs names identities that are not created: ${[...new Set(missing)].join(", ")}`, this);
        for (const id of args.identities) {
            const sa = new gcp.serviceaccount.Account(
                `${name}-${accountIds[id]}`,
                { project: ctx.project, accountId: ctx.naming.accountId(accountIds[id]), displayName: ctx.naming.name(accountIds[id]), description: descriptions[id] },
                { parent: this },
            );
            this.accounts[id] = sa;
            const grants: Record<string, IamGrant> = {};
            for (const role of [...projectRoles[id], ...(args.extra?.roles?.[id] ?? [])]) {
                const key = role.replace(/^roles\//, "").replace(/[^A-Za-z0-9]+/g, "-").toLowerCase();
                grants[key] = { role, member: sa.member };
                if (role === "roles/resourcemanager.projectIamAdmin") {
                    grants[key].condition = {
                        title: "only-stack-roles",
                        description: "May grant and revoke only the roles this stack grants",
                        expression: `api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([${grantableRoles(args.extra)
                            .map((r) => `'${r}'`)
                            .join(", ")}])`,
                    };
                }
            }
            applyIam(
                `${name}-${accountIds[id]}-project`,
                { iamBindingsAdditive: grants },
                { member: (n, role, member, condition, o) => new gcp.projects.IAMMember(n, { project: ctx.project, role, member, condition }, o) },
                this,
                { allowUserMembers: ctx.allowUserMembers },
            );
        }
        this.name = name;
        this.allowUserMembers = ctx.allowUserMembers;
        for (const [id, actors] of Object.entries(args.actAs ?? {}) as [Identity, Identity[]][]) {
            if (args.deferActAs?.includes(id)) continue;
            this.grantActAs(id, actors.map((a) => this.accounts[a]!.member));
        }
        this.registerOutputs({ emails: this.emails() });
    }

    private readonly name: string;
    private readonly allowUserMembers: boolean;

    /**
     * Who may act as an identity (`roles/iam.serviceAccountUser`, authoritative): members made
     * elsewhere (a workload identity pool's principal set) come in here, after their pool exists.
     */
    grantActAs(id: Identity, members: pulumi.Input<string>[]): void {
        const sa = this.accounts[id];
        if (!sa) throw new pulumi.ResourceError(`identity '${id}' was not created`, this);
        const iam: IamArgs = { iam: { "roles/iam.serviceAccountUser": members } };
        applyIam(`${this.name}-${accountIds[id]}`, iam, serviceAccountIam(sa), this, { allowUserMembers: this.allowUserMembers });
    }

    emails(): pulumi.Output<Record<string, string>> {
        return pulumi.output(Object.fromEntries(Object.entries(this.accounts).map(([k, sa]) => [k, sa!.email])));
    }

    /** `serviceAccount:<email>` of an identity the stack made (throws when it was left out). */
    member(id: Identity): pulumi.Output<string> {
        const sa = this.accounts[id];
        if (!sa) throw new pulumi.ResourceError(`identity '${id}' was not created`, this);
        return sa.member;
    }
}
