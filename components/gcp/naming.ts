import * as crypto from "crypto";

/**
 * One name scheme for every Google Cloud resource of the stack:
 * `<prefix>-<stack>-<role>`. Names are stable (no random suffixes), so a
 * resource keeps its name across `pulumi up` and a reader can tell from a name
 * which stack made it. Bucket names are global across all of Google Cloud, so
 * they also carry the project id.
 */
export class Naming {
    public readonly prefix: string;
    /** The stack name, lowercased, anything outside [a-z0-9-] turned into '-'. */
    public readonly stack: string;
    public readonly project: string;

    constructor(prefix: string, stack: string, project: string) {
        this.prefix = prefix;
        this.stack = sanitize(stack);
        this.project = project;
        if (!this.stack) throw new Error(`stack name '${stack}' has no letter or digit to name resources by`);
    }

    /** `<prefix>-<stack>-<role>`, checked against the resource type's limit. */
    name(role: string, max = 63, what = "resource name"): string {
        const n = role ? `${this.prefix}-${this.stack}-${role}` : `${this.prefix}-${this.stack}`;
        if (n.length > max) {
            throw new Error(`${what} '${n}' is ${n.length} characters, over the limit of ${max}: use a shorter gcp.prefix or stack name`);
        }
        return n;
    }

    /** A service account id: 6-30 characters. */
    accountId(role: string): string {
        return this.name(role, 30, "service account id");
    }

    /** Workload identity pool and provider ids: 4-32 characters, `gcp-` is reserved. */
    poolId(role: string): string {
        const n = this.name(role, 32, "workload identity pool id");
        if (n.startsWith("gcp-")) throw new Error(`workload identity id '${n}' starts with the reserved 'gcp-': use another gcp.prefix`);
        return n;
    }

    /** Globally unique names (buckets): `<prefix>-<stack>-<role>-<project>`. */
    global(role: string): string {
        return this.name(`${role}-${this.project}`, 63, "bucket name");
    }

    /** Names that allow only [a-z0-9_] (Vertex metadata stores). */
    underscored(role: string): string {
        return this.name(role, 60, "metadata store name").replace(/-/g, "_");
    }

    /** A stable numeric id (Vertex endpoints take only digits, at most 10, no leading zero). */
    numericId(role: string): string {
        const h = crypto.createHash("sha256").update(this.name(role)).digest();
        return String(1_000_000_000 + (h.readUInt32BE(0) % 999_999_999));
    }
}

/** Service account ids by identity (`<prefix>-<stack>-<id>`): every one is checked up front, created or not. */
export const serviceAccountIds = { workstation: "ws", training: "training", workbench: "workbench", ciPreview: "ci-preview", ciDeploy: "ci-deploy", cloudNode: "cnode", tunnelGateway: "wg-gw" } as const;

/** What the names depend on besides prefix, stack and project. */
export interface NamingInput {
    prefix: string;
    stack: string;
    project: string;
    /** gcp.artifactRegistry.repository */
    repository: string;
    /** gcp.secrets ids */
    secrets: string[];
}

/**
 * Every name the stack could give a Google Cloud resource, whichever parts are
 * switched on, checked against its type's limit: problems (empty when all
 * fit). The config check runs this before any resource exists, so turning a
 * part on later never fails half-way for a name that does not fit.
 */
export function namingProblems(i: NamingInput): string[] {
    let n: Naming;
    try {
        n = new Naming(i.prefix, i.stack, i.project);
    } catch (err) {
        return [(err as Error).message];
    }
    const full = (role: string) => n.name(role, Infinity);
    const names: [what: string, name: string, max: number][] = [
        ...Object.values(serviceAccountIds).map((id): [string, string, number] => ["service account id", full(id), 30]),
        ["workload identity pool id", full("pool"), 32],
        ...["datasets", "artifacts", "checkpoints"].map((role): [string, string, number] => ["bucket name", full(`${role}-${i.project}`), 63]),
        ...[i.repository, "dockerhub", "budget", "workbench", "tensorboard", "endpoint", "vpc", "subnet", "router", "nat", "allow-iap-ssh", "deny-ingress"].map((role): [string, string, number] => ["resource name", full(role), 63]),
        ["metadata store name", full("metadata"), 60],
        // Cloud nodes (gcp.cloudNodes): instance names up to `-cn-64`, the template's namePrefix (Pulumi adds 26), custom role ids.
        ["instance name", full("cn-64"), 63],
        ["instance template name prefix", full("cn-tpl"), 37],
        ...["cn-slurm", "cn-peers", "wg-gw", "wg-gw-ip", "wg-route", "wg-gw-udp", "wg-gw-fwd"].map((role): [string, string, number] => ["resource name", full(role), 63]),
        ...["cn-launcher", "cn-lister"].map((role): [string, string, number] => ["custom role id", full(role), 64]),
        ["secret id", full("munge-key"), 255],
        ["secret id", full("wg-gateway-key"), 255],
        ...i.secrets.map((id): [string, string, number] => ["secret id", full(id), 255]),
    ];
    const over = names.filter(([, name, max]) => name.length > max);
    const out: string[] = [];
    if (over.length) {
        const by = Math.max(...over.map(([, name, max]) => name.length - max));
        out.push(
            `gcp.prefix '${n.prefix}' and the stack name '${n.stack}' make ${over.length} name(s) longer than Google Cloud allows: ${over.map(([what, name, max]) => `${what} '${name}' (${name.length} > ${max})`).join(", ")}. Every name is checked, created or not: shorten the prefix and stack name together by at least ${by} character(s)`,
        );
    }
    if (full("pool").startsWith("gcp-")) out.push(`workload identity id '${full("pool")}' starts with the reserved 'gcp-': use another gcp.prefix`);
    return out;
}

export function sanitize(s: string): string {
    return s
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/-+/g, "-")
        .replace(/^-|-$/g, "");
}

/** Labels on every resource that takes them: the config's, plus who manages it and which stack. */
export function stackLabels(configLabels: Record<string, string>, naming: Naming): Record<string, string> {
    return { ...configLabels, "managed-by": "pulumi", stack: naming.stack.slice(0, 63), app: naming.prefix };
}
