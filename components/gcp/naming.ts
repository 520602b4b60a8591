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
