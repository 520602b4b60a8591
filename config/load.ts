import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
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
 * Validate raw config as Pulumi hands it to a program: `namespace:key` ->
 * string (structured values as JSON), plus which keys are secret.
 */
export function parseStackConfig(raw: Record<string, string>, secretKeys: ReadonlySet<string>): StackConfig {
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
    if (problems.length > 0) throw new ConfigError(problems);
    return result.data as StackConfig;
}

/** Read and validate the running stack's `aihpc:` config. */
export function loadStackConfig(): StackConfig {
    const raw = pulumi.runtime.allConfig();
    const secret = new Set(Object.keys(raw).filter((k) => isConfigSecret(k)));
    return parseStackConfig(raw, secret);
}

function isConfigSecret(key: string): boolean {
    // Exported by the SDK's runtime but not re-exported in its typings.
    const rt = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
    return rt.isConfigSecret ? rt.isConfigSecret(key) : false;
}
