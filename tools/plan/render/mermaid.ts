import { Plan } from "../plan";
import { childrenOf } from "./summary";

/** Components as subgraphs, resources as nodes, dependencies as arrows. */
export function renderMermaid(plan: Plan): string {
    const ids = new Map(plan.resources.map((r, i) => [r.urn, `n${i}`]));
    const kids = childrenOf(plan.resources);
    const out = ["graph LR"];
    const label = (s: string) => s.replace(/"/g, "'");
    const walk = (parent: string, depth: number) => {
        const pad = "  ".repeat(depth + 1);
        for (const r of kids.get(parent) ?? []) {
            const id = ids.get(r.urn)!;
            if (kids.has(r.urn)) {
                out.push(`${pad}subgraph ${id}["${label(r.name)}<br/><small>${label(r.type)}</small>"]`);
                walk(r.urn, depth + 1);
                out.push(`${pad}end`);
            } else {
                out.push(`${pad}${id}["${label(r.name)}<br/><small>${label(r.type)}</small>"]`);
            }
        }
    };
    walk("", 0);
    for (const r of plan.resources) {
        for (const d of r.dependencies) {
            const from = ids.get(d);
            if (from) out.push(`  ${from} --> ${ids.get(r.urn)}`);
        }
    }
    return out.join("\n") + "\n";
}
