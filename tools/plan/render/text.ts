import { Plan } from "../plan";
import { childrenOf, keyInputs, policySummary } from "./summary";

export function renderText(plan: Plan): string {
    const lines: string[] = [];
    const custom = plan.resources.filter((r) => r.custom).length;
    lines.push(`Plan for stack '${plan.stack}' (project ${plan.project}): ${custom} resources in ${plan.resources.length - custom} components`);
    lines.push("", "Resources:");
    const kids = childrenOf(plan.resources);
    const walk = (parent: string, depth: number) => {
        for (const r of kids.get(parent) ?? []) {
            const flags = [r.protect ? "protected" : "", r.retainOnDelete ? "retained" : ""].filter(Boolean).join(", ");
            lines.push(`${"  ".repeat(depth + 1)}+ ${r.type}  ${r.name}${flags ? `  (${flags})` : ""}`);
            walk(r.urn, depth + 1);
        }
    };
    walk("", 0);
    lines.push("", "Counts by type:");
    for (const [t, n] of Object.entries(plan.counts)) lines.push(`  ${String(n).padStart(4)}  ${t}`);
    lines.push("", "Outputs:");
    for (const l of JSON.stringify(plan.outputs, null, 2).split("\n")) lines.push(`  ${l}`);
    lines.push("", "Inputs:");
    for (const r of plan.resources.filter((x) => x.custom)) {
        lines.push(`  ${r.name} (${r.type})`);
        for (const [k, v] of keyInputs(r.inputs)) lines.push(`      ${k}: ${v}`);
    }
    lines.push("", policySummary(plan));
    for (const v of plan.violations) {
        lines.push(`  [${v.enforcement}/${v.severity}] ${v.rule}: ${v.resource ? `${v.resource} (${v.type}): ` : ""}${v.message}`);
        lines.push(`      fix: ${v.remediation}`);
    }
    if (plan.duplicates.length) {
        lines.push("", "Duplicate resource URNs (pulumi up would refuse these):", ...plan.duplicates.map((d) => `  ${d}`));
    }
    return lines.join("\n") + "\n";
}
