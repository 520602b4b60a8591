import { createHash } from "crypto";
import { Plan, PlanResource } from "../plan";

/** Children by parent name, in registration order; "" holds the top level. */
export function childrenOf(resources: PlanResource[]): Map<string, PlanResource[]> {
    const m = new Map<string, PlanResource[]>();
    for (const r of resources) {
        const k = r.parentUrn ?? "";
        m.set(k, [...(m.get(k) ?? []), r]);
    }
    return m;
}

/**
 * The inputs worth reading in a review, one line each: scalars as they are,
 * long text (scripts, config files) as a line count and digest, nested
 * objects flattened with dotted keys.
 */
export function keyInputs(inputs: Record<string, unknown>, prefix = ""): [string, string][] {
    const out: [string, string][] = [];
    for (const [k, v] of Object.entries(inputs)) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (v === null || v === undefined) continue;
        if (Array.isArray(v)) {
            if (v.every((x) => x === null || typeof x !== "object")) out.push([key, short(JSON.stringify(v))]);
            else out.push([key, `[${v.length} items]`]);
        } else if (typeof v === "object") {
            out.push(...keyInputs(v as Record<string, unknown>, key));
        } else if (typeof v === "string") {
            out.push([key, describeString(v)]);
        } else {
            out.push([key, String(v)]);
        }
    }
    return out;
}

function short(s: string, max = 100): string {
    return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

function describeString(s: string): string {
    const lines = s.split("\n").length;
    if (lines > 1 || s.length > 120) {
        return `<${lines} line${lines === 1 ? "" : "s"}, ${s.length} chars, sha256 ${createHash("sha256").update(s).digest("hex").slice(0, 12)}>`;
    }
    return s;
}

/** One line: how many policy findings, and how many of them block. */
export function policySummary(plan: Plan): string {
    const m = plan.violations.filter((v) => v.enforcement === "mandatory").length;
    if (plan.violations.length === 0) return "Policies: no violations";
    return `Policies: ${plan.violations.length} violation${plan.violations.length === 1 ? "" : "s"} (${m} mandatory, ${plan.violations.length - m} advisory)`;
}
