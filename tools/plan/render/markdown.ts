import { Plan } from "../plan";
import { childrenOf, keyInputs, policySummary } from "./summary";

const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/</g, "&lt;");

/** A pull-request comment: summary first, details folded. */
export function renderMarkdown(plan: Plan): string {
    const custom = plan.resources.filter((r) => r.custom);
    const out: string[] = [];
    out.push(`### Plan: stack \`${plan.stack}\``, "");
    out.push(`**${custom.length}** resources to create in **${plan.resources.length - custom.length}** components.`, "");
    out.push(`**${policySummary(plan)}**`, "");
    if (plan.violations.length) {
        out.push("| Enforcement | Severity | Rule | Resource | Problem | Fix |", "| --- | --- | --- | --- | --- | --- |");
        for (const v of plan.violations) {
            out.push(`| ${v.enforcement} | ${v.severity} | \`${v.rule}\` | ${v.resource ? `\`${esc(v.resource)}\`` : "stack"} | ${esc(v.message)} | ${esc(v.remediation)} |`);
        }
        out.push("");
    }
    out.push("| Type | Count |", "| --- | ---: |");
    for (const [t, n] of Object.entries(plan.counts)) out.push(`| \`${t}\` | ${n} |`);
    out.push("", "<details><summary>Resource tree</summary>", "", "```");
    const kids = childrenOf(plan.resources);
    const walk = (parent: string, depth: number) => {
        for (const r of kids.get(parent) ?? []) {
            out.push(`${"  ".repeat(depth)}+ ${r.type}  ${r.name}${r.protect ? "  (protected)" : ""}`);
            walk(r.urn, depth + 1);
        }
    };
    walk("", 0);
    out.push("```", "", "</details>", "");
    out.push("<details><summary>Outputs</summary>", "", "```json", JSON.stringify(plan.outputs, null, 2), "```", "", "</details>", "");
    out.push("<details><summary>Inputs</summary>", "");
    for (const r of custom) {
        out.push(`**${esc(r.name)}** \`${r.type}\``, "", "| Input | Value |", "| --- | --- |");
        for (const [k, v] of keyInputs(r.inputs)) out.push(`| ${esc(k)} | ${esc(v)} |`);
        out.push("");
    }
    out.push("</details>", "");
    if (plan.duplicates.length) out.push("**Duplicate URNs:**", ...plan.duplicates.map((d) => `- \`${d}\``), "");
    return out.join("\n");
}
