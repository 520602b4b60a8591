import { Plan } from "../plan";

/** For tools: every resource with its type token, name, parent and resolved inputs. */
export function renderJson(plan: Plan): string {
    const doc = {
        project: plan.project,
        stack: plan.stack,
        counts: plan.counts,
        outputs: plan.outputs,
        duplicates: plan.duplicates,
        violations: plan.violations,
        resources: plan.resources.map((r) => ({
            type: r.type,
            name: r.name,
            parent: r.parent ?? null,
            custom: r.custom,
            inputs: r.inputs,
            dependsOn: r.dependencies.map((d) => d.split("::").pop()),
            protect: r.protect,
            retainOnDelete: r.retainOnDelete,
            ignoreChanges: r.ignoreChanges,
        })),
    };
    return JSON.stringify(doc, null, 2) + "\n";
}
