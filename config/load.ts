import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { namingProblems } from "../components/gcp/naming";
import { cloudNodesStackProblems } from "./cloud-nodes";
import { StackConfig, stackConfigSchema } from "./schema";
import { SecretValue } from "./secret";

export const NAMESPACE = "aihpc";

export interface ConfigProblem {
    /** Config path as a user writes it, e.g. `aihpc:workstation.hosts[1].port`. */
    path: string;
    message: string;
}

/**
 * Invalid stack config. A RunError, so `pulumi up` prints the message alone,
 * without a stack trace, and registers nothing.
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: ConfigProblem[]) {
        super(formatProblems(problems));
        this.name = "ConfigError";
    }
}

export function formatProblems(problems: ConfigProblem[]): string {
    const n = problems.length;
    return [
        `Invalid stack configuration: ${n} problem${n === 1 ? "" : "s"}`,
        ...problems.map((p) => `  - ${p.path}: ${p.message}`),
        "Fix these in Pulumi.<stack>.yaml (or with `pulumi config set`) and run again; nothing was changed.",
    ].join("\n");
}

function formatPath(path: PropertyKey[]): string {
    let out = "";
    path.forEach((seg, i) => {
        if (typeof seg === "number") out += `[${seg}]`;
        else if (i === 0) out += `${NAMESPACE}:${String(seg)}`;
        else out += `.${String(seg)}`;
    });
    return out || NAMESPACE;
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
    let v: unknown = root;
    for (const seg of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<PropertyKey, unknown>)[seg];
    }
    return v;
}

function show(v: unknown): string {
    if (v instanceof SecretValue) return "[secret]";
    if (v === undefined) return "nothing";
    if (Array.isArray(v)) return "a list";
    if (v === null) return "null";
    if (typeof v === "object") return "an object";
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function describeType(expected: string): string {
    switch (expected) {
        case "object":
            return "an object (a YAML mapping)";
        case "array":
            return "a list";
        case "string":
            return "a string";
        case "number":
            return "a number";
        case "boolean":
            return "true or false";
        default:
            return expected;
    }
}

function bound(kind: "min" | "max", i: { origin?: string; inclusive?: boolean }, n: unknown): string {
    const op = kind === "min" ? (i.inclusive ? "at least" : "more than") : i.inclusive ? "at most" : "less than";
    switch (i.origin) {
        case "array":
        case "set":
            return `expected ${op} ${n} item${n === 1 ? "" : "s"}`;
        case "string":
            return `expected ${op} ${n} character${n === 1 ? "" : "s"}`;
        default:
            return `expected a number ${op} ${n}`;
    }
}

/** One readable message per zod issue, with the offending value where it helps. */
function toProblems(error: z.ZodError, input: unknown): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    for (const i of error.issues) {
        const got = valueAt(input, i.path);
        switch (i.code) {
            case "unrecognized_keys":
                for (const key of i.keys) {
                    problems.push({ path: formatPath([...i.path, key]), message: "unknown key: remove it or check its spelling" });
                }
                continue;
            case "invalid_type": {
                const expected = i.message.startsWith("expected ") ? i.message.slice("expected ".length) : describeType(i.expected);
                problems.push({
                    path: formatPath(i.path),
                    message: got === undefined ? `required: expected ${expected}` : `expected ${expected}, got ${show(got)}`,
                });
                continue;
            }
            case "invalid_key": {
                const key = i.path[i.path.length - 1];
                const inner = i.issues.find((x) => x.message.startsWith("expected "))?.message ?? "invalid key";
                problems.push({ path: formatPath(i.path), message: `${inner}, got ${show(key)}` });
                continue;
            }
            case "invalid_value":
                problems.push({ path: formatPath(i.path), message: `expected one of ${i.values.map((v) => JSON.stringify(v)).join(", ")}, got ${show(got)}` });
                continue;
            case "too_small":
                problems.push({ path: formatPath(i.path), message: customOr(i, `${bound("min", i, i.minimum)}, got ${show(got)}`, got) });
                continue;
            case "too_big":
                problems.push({ path: formatPath(i.path), message: customOr(i, `${bound("max", i, i.maximum)}, got ${show(got)}`, got) });
                continue;
            case "invalid_format":
                problems.push({ path: formatPath(i.path), message: customOr(i, `expected ${i.format === "url" ? "a URL" : `a ${i.format}`}, got ${show(got)}`, got) });
                continue;
            case "custom":
                // A refinement's "expected ..." gets the value, as zod's own issues do, unless it says
                // what it got itself (a secret's check says "got plain text" and never shows the value).
                problems.push({
                    path: formatPath(i.path),
                    message: i.message.startsWith("expected ") && !/\bgot\b/.test(i.message) && typeof got !== "object" && got !== undefined ? `${i.message}, got ${show(got)}` : i.message,
                });
                continue;
            case "not_multiple_of":
            case "invalid_union":
                problems.push({ path: formatPath(i.path), message: `${i.message}, got ${show(got)}` });
                continue;
            default:
                problems.push({ path: formatPath(i.path), message: i.message });
        }
    }
    return problems;
}

// zod's built-in texts start with "Too big:", "Invalid"...; ours are lower case
// and already say what is expected, so keep them and add the value.
function customOr(i: z.core.$ZodIssue, fallback: string, got: unknown): string {
    if (/^(Too |Invalid )/.test(i.message)) return fallback;
    return i.message.startsWith("expected ") ? `${i.message}, got ${show(got)}` : i.message;
}

/** Keys this program reads; anything else under `aihpc:` is a typo. */
const structuredKeys = new Set(["workstation", "gcp"]);

/**
 * Google Cloud names come from gcp.prefix and the stack name: each must fit its
 * resource type, checked for every resource the stack could create. Runs on
 * the raw input too, so that the names show up with any other problem.
 */
function gcpNaming(input: Record<string, unknown>, parsed: StackConfig | undefined, stack: string): ConfigProblem[] {
    const raw = input.gcp as Record<string, any> | undefined;
    if (raw === null || typeof raw !== "object") return [];
    const g = parsed?.gcp;
    const prefix = g?.prefix ?? (raw.prefix === undefined ? "aihpc" : raw.prefix);
    const project = g?.project ?? raw.project;
    const repository = g?.artifactRegistry.repository ?? (raw.artifactRegistry?.repository === undefined ? "training" : raw.artifactRegistry.repository);
    const secrets = Object.keys(g?.secrets ?? (raw.secrets && typeof raw.secrets === "object" ? raw.secrets : {}));
    // A malformed prefix, project or repository is reported by the schema already.
    if (![prefix, project, repository].every((v) => typeof v === "string" && /^[a-z][a-z0-9-]*$/.test(v))) return [];
    return namingProblems({ prefix, stack, project, repository, secrets }).map((message) => ({ path: `${NAMESPACE}:gcp.prefix`, message }));
}

/**
 * Validate raw config as Pulumi hands it to a program: `namespace:key` ->
 * string (structured values as JSON), plus which keys are secret. With the
 * stack name, the Google Cloud names made from it are checked as well.
 */
export function parseStackConfig(raw: Record<string, string>, secretKeys: ReadonlySet<string>, stack?: string): StackConfig {
    const input: Record<string, unknown> = {};
    const problems: ConfigProblem[] = [];
    for (const [fullKey, value] of Object.entries(raw)) {
        const [ns, ...rest] = fullKey.split(":");
        if (ns !== NAMESPACE) continue;
        const key = rest.join(":");
        const isSecret = secretKeys.has(fullKey);
        if (structuredKeys.has(key)) {
            if (isSecret) {
                problems.push({
                    path: fullKey,
                    message: "holds a secure value; keep secrets in their own keys (aihpc:sshPrivateKey) so the rest stays readable in the plan",
                });
                continue;
            }
            try {
                input[key] = JSON.parse(value);
            } catch {
                input[key] = value;
            }
        } else {
            input[key] = isSecret ? new SecretValue(value) : value;
        }
    }
    const result = stackConfigSchema.safeParse(input);
    if (!result.success) problems.push(...toProblems(result.error, input));
    if (stack !== undefined) problems.push(...gcpNaming(input, result.success ? result.data : undefined, stack));
    const cloudNodes = result.success ? result.data.gcp?.cloudNodes : undefined;
    if (stack !== undefined && cloudNodes) {
        problems.push(...cloudNodesStackProblems(cloudNodes, stack).map((message) => ({ path: `${NAMESPACE}:gcp.cloudNodes.backend`, message })));
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return result.data as StackConfig;
}

/** Read and validate the running stack's `aihpc:` config. */
export function loadStackConfig(): StackConfig {
    const raw = pulumi.runtime.allConfig();
    const secret = new Set(Object.keys(raw).filter((k) => isConfigSecret(k)));
    return parseStackConfig(raw, secret, pulumi.getStack());
}

function isConfigSecret(key: string): boolean {
    // Exported by the SDK's runtime but not re-exported in its typings.
    const rt = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
    return rt.isConfigSecret ? rt.isConfigSecret(key) : false;
}
