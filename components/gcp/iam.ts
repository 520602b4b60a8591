import * as pulumi from "@pulumi/pulumi";

/**
 * The one IAM interface of every gcp component (Fabric's shape):
 *
 * - `iam`: role -> members, authoritative for that role on this resource (any
 *   other holder of the role is removed on the next `up`);
 * - `iamBindingsAdditive`: named grants of one role to one member, leaving
 *   other holders alone (what project-level grants use: the stack does not own
 *   the project's policy).
 *
 * A role listed with no members creates nothing. `normalizeIam` merges both into one list, the single place where grants are
 * checked (no basic roles, no public members, no personal accounts unless
 * allowed) and where tests and policies read them.
 */
export interface IamArgs {
    iam?: Record<string, pulumi.Input<string>[]>;
    iamBindingsAdditive?: Record<string, IamGrant>;
}

export interface IamGrant {
    role: string;
    member: pulumi.Input<string>;
    condition?: IamCondition;
}

export interface IamCondition {
    title: string;
    expression: string;
    description?: string;
}

export interface NormalizedGrant {
    /** Resource name suffix: `iam-<role slug>` or `iam-<key>`. */
    key: string;
    role: string;
    members: pulumi.Input<string>[];
    authoritative: boolean;
    condition?: IamCondition;
}

export const BASIC_ROLES = ["roles/owner", "roles/editor", "roles/viewer"];
export const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];

export interface IamPolicyOptions {
    /** `user:` members are refused unless this is on (`gcp.allowUserMembers`). */
    allowUserMembers?: boolean;
    /** Project-level IAM is additive only: the stack does not own the project's policy. */
    additiveOnly?: boolean;
}

export function roleSlug(role: string): string {
    return role
        .replace(/^roles\//, "")
        .replace(/[^A-Za-z0-9]+/g, "-")
        .toLowerCase();
}

/** Merge and check; throws an Error naming the offending role or member. */
export function normalizeIam(args: IamArgs, opts: IamPolicyOptions = {}): NormalizedGrant[] {
    const out: NormalizedGrant[] = [];
    const authoritative = Object.entries(args.iam ?? {});
    if (opts.additiveOnly && authoritative.length) {
        throw new Error(`authoritative iam (${authoritative.map(([r]) => r).join(", ")}) is not allowed here: use iamBindingsAdditive`);
    }
    for (const [role, members] of authoritative) {
        // A role with no members is left out (no binding), not emptied.
        if (members.length === 0) continue;
        checkRole(role);
        members.forEach((m) => checkMember(role, m, opts));
        out.push({ key: `iam-${roleSlug(role)}`, role, members, authoritative: true });
    }
    const authRoles = new Set(authoritative.map(([r]) => r));
    for (const [key, g] of Object.entries(args.iamBindingsAdditive ?? {})) {
        checkRole(g.role);
        checkMember(g.role, g.member, opts);
        if (authRoles.has(g.role)) {
            throw new Error(`${g.role} is authoritative in iam, so the additive grant '${key}' would be removed on every update: add its member to iam['${g.role}']`);
        }
        if (!/^[a-z0-9-]+$/.test(key)) throw new Error(`iamBindingsAdditive key '${key}': expected lowercase letters, digits and '-'`);
        out.push({ key: `iam-${key}`, role: g.role, members: [g.member], authoritative: false, condition: g.condition });
    }
    return out;
}

function checkRole(role: string): void {
    if (BASIC_ROLES.includes(role)) throw new Error(`${role} is a basic role: grant a predefined role that covers only what is needed`);
    if (!/^(roles|projects\/[a-z0-9-]+\/roles|organizations\/\d+\/roles)\/[A-Za-z0-9._]+$/.test(role)) throw new Error(`'${role}' is not an IAM role name`);
}

function checkMember(role: string, m: pulumi.Input<string>, opts: IamPolicyOptions): void {
    if (typeof m !== "string") return; // an Output: a member this stack made (a service account)
    if (PUBLIC_MEMBERS.includes(m)) throw new Error(`${role}: '${m}' would make the resource public`);
    if (m.startsWith("user:") && !opts.allowUserMembers) {
        throw new Error(`${role}: '${m}' is a personal account; grant a group or service account, or set gcp.allowUserMembers`);
    }
    if (!/^((user|group|serviceAccount|domain):.|(principal|principalSet):\/\/iam\.googleapis\.com\/.)/.test(m)) {
        throw new Error(`${role}: '${m}' is not an IAM member (expected user:, group:, serviceAccount:, domain:, principal:// or principalSet://)`);
    }
}

/** How one resource type grants: authoritative per role, or one member. */
export interface IamTarget {
    binding?: (name: string, role: string, members: pulumi.Input<string>[], opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;
    member: (name: string, role: string, member: pulumi.Input<string>, condition: IamCondition | undefined, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;
}

/** Create the grants of `args` on a target as children of `parent`, named `<name>-<key>`. */
export function applyIam(
    name: string,
    args: IamArgs,
    target: IamTarget,
    parent: pulumi.Resource,
    opts: IamPolicyOptions = {},
): pulumi.CustomResource[] {
    let grants: NormalizedGrant[];
    try {
        grants = normalizeIam(args, { ...opts, additiveOnly: opts.additiveOnly || !target.binding });
    } catch (err) {
        throw new pulumi.ResourceError(`${name}: ${(err as Error).message}`, parent);
    }
    return grants.map((g) =>
        g.authoritative
            ? target.binding!(`${name}-${g.key}`, g.role, g.members, { parent })
            : target.member(`${name}-${g.key}`, g.role, g.members[0], g.condition, { parent }),
    );
}
