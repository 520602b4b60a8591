import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { evaluatePolicies, PolicyConfigFile, Violation } from "../../policies/evaluate";
import { RuleResource } from "../../policies/rules";
import { ARCHIVE_SIG, ASSET_SIG, containsSecret, PlannedResource, RESOURCE_SIG, reveal, RunOptions, runUnderMocks, SECRET_SIG, SIG_KEY, STACK_TYPE, UNKNOWN_VALUE } from "./recorder";

export const SECRET = "[secret]";
export const UNKNOWN = "[unknown]";

export interface PlanResource {
    urn: string;
    /** Pulumi type token, e.g. `command:remote:Command`. */
    type: string;
    name: string;
    /** Name of the parent resource; undefined for the stack. */
    parent?: string;
    parentUrn?: string;
    custom: boolean;
    /** Resolved inputs; secrets as `[secret]`, values known only after apply as `[unknown]`. */
    inputs: Record<string, unknown>;
    dependencies: string[];
    protect: boolean;
    retainOnDelete: boolean;
    ignoreChanges: string[];
}

export interface Plan {
    project: string;
    stack: string;
    resources: PlanResource[];
    /** Custom resources (what providers create) counted by type. */
    counts: Record<string, number>;
    outputs: Record<string, unknown>;
    duplicates: string[];
    /** Policy pack findings on the planned graph (resource and stack rules). */
    violations: Violation[];
}

export const DEFAULT_POLICY_CONFIG = path.resolve(__dirname, "..", "..", "policies", "policy-config.json");

export function readPolicyConfig(file: string = DEFAULT_POLICY_CONFIG): PolicyConfigFile {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PolicyConfigFile;
}

function withoutUnknowns(v: unknown): unknown {
    if (v === UNKNOWN_VALUE) return undefined;
    if (Array.isArray(v)) return v.map(withoutUnknowns);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutUnknowns(x)]));
    return v;
}

/** What a policy rule sees: plain inputs, plus which inputs were secret. */
export function toRuleResources(recorded: PlannedResource[]): RuleResource[] {
    return recorded
        .filter((r) => r.custom)
        .map((r) => ({
            type: r.type,
            name: r.name,
            urn: r.urn,
            // Unknown during preview: absent, as CrossGuard shows it (not the wire sentinel).
            props: withoutUnknowns(reveal(r.inputs)) as Record<string, any>,
            protect: r.options.protect,
            retainOnDelete: r.options.retainOnDelete,
            secretInputs: new Set(Object.keys(r.inputs).filter((k) => containsSecret(r.inputs[k]))),
        }));
}

/** Make a wire-form value printable: hide secrets, name assets and unknowns. */
export function sanitize(v: unknown): unknown {
    if (v === UNKNOWN_VALUE) return UNKNOWN;
    if (v === undefined || v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(sanitize);
    const o = v as Record<string, unknown>;
    switch (o[SIG_KEY]) {
        case SECRET_SIG:
            return sanitizeSecret(o.value);
        case RESOURCE_SIG:
            return o.urn;
        case ASSET_SIG:
            return o.path !== undefined ? { asset: "file", path: o.path } : o.text !== undefined ? { asset: "string", sha256: digestOf(o.text) } : { asset: "remote", uri: o.uri };
        case ARCHIVE_SIG:
            return o.path !== undefined ? { archive: "file", path: o.path } : { archive: "assets", items: Object.keys((o.assets as object) ?? {}) };
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = sanitize(x);
    return out;
}

// Providers mark a whole SSH connection secret to protect its key. Reviewers
// still need to see where a step goes and which host key it pins: these
// fields, public by nature, are shown; every other field stays hidden.
const PUBLIC_IN_SECRET_OBJECTS = new Set(["host", "port", "user", "hostKey"]);

function sanitizeSecret(v: unknown): unknown {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return SECRET;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        out[k] = PUBLIC_IN_SECRET_OBJECTS.has(k) && (typeof x === "string" || typeof x === "number") ? x : SECRET;
    }
    return out;
}

function digestOf(text: unknown): string {
    if (typeof text !== "string") return UNKNOWN;
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, 12);
}

/** Evaluate a program under the mocks, as `pulumi preview` would, and shape the result. */
export async function buildPlan(
    program: () => unknown,
    opts: RunOptions & { project: string; stack: string; policyConfig?: PolicyConfigFile },
): Promise<Plan> {
    const run = await runUnderMocks(program, { preview: true, ...opts });
    const violations = evaluatePolicies(toRuleResources(run.resources), opts.policyConfig ?? readPolicyConfig());
    return toPlan(opts.project, opts.stack, run.resources, run.outputs, run.duplicates, violations);
}

export function toPlan(
    project: string,
    stack: string,
    recorded: PlannedResource[],
    outputs: Record<string, unknown>,
    duplicates: string[],
    violations: Violation[] = [],
): Plan {
    const byUrn = new Map(recorded.map((r) => [r.urn, r]));
    const resources = recorded
        .filter((r) => r.type !== STACK_TYPE)
        .map<PlanResource>((r) => {
            const parent = r.parent ? byUrn.get(r.parent) : undefined;
            const isStackChild = !parent || parent.type === STACK_TYPE;
            return {
                urn: r.urn,
                type: r.type,
                name: r.name,
                parent: isStackChild ? undefined : parent.name,
                parentUrn: isStackChild ? undefined : parent.urn,
                custom: r.custom,
                inputs: sanitize(r.inputs) as Record<string, unknown>,
                dependencies: r.dependencies.filter((d) => byUrn.has(d) && byUrn.get(d)!.type !== STACK_TYPE),
                protect: r.options.protect,
                retainOnDelete: r.options.retainOnDelete,
                ignoreChanges: r.options.ignoreChanges,
            };
        });
    const counts: Record<string, number> = {};
    for (const r of resources) if (r.custom) counts[r.type] = (counts[r.type] ?? 0) + 1;
    return {
        project,
        stack,
        resources,
        counts: Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))),
        outputs: sanitize(outputs) as Record<string, unknown>,
        duplicates,
        violations,
    };
}
