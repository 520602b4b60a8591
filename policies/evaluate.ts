import { applies, Enforcement, Rule, RuleResource, rules as allRules, ruleConfig, Severity } from "./rules";

export interface Violation {
    rule: string;
    severity: Severity;
    enforcement: Enforcement;
    /** Resource name, or undefined for a stack-wide finding. */
    resource?: string;
    type?: string;
    urn?: string;
    message: string;
    remediation: string;
}

/**
 * Pulumi's policy config file format (`pulumi preview --policy-pack-config`):
 * `{ "all": "advisory" | {enforcementLevel}, "<rule>": "<level>" | { enforcementLevel?, ...settings } }`.
 */
export type PolicyConfigFile = Record<string, Enforcement | ({ enforcementLevel?: Enforcement } & Record<string, unknown>)>;

function entry(file: PolicyConfigFile, key: string): { enforcementLevel?: Enforcement; settings: Record<string, unknown> } {
    const v = file[key];
    if (v === undefined) return { settings: {} };
    if (typeof v === "string") return { enforcementLevel: v, settings: {} };
    const { enforcementLevel, ...settings } = v;
    return { enforcementLevel, settings };
}

/** Run every rule against a planned graph, as the CrossGuard pack would. */
export function evaluatePolicies(resources: RuleResource[], file: PolicyConfigFile = {}, rules: Rule[] = allRules): Violation[] {
    const all = entry(file, "all");
    const out: Violation[] = [];
    for (const rule of rules) {
        const own = entry(file, rule.name);
        const enforcement = own.enforcementLevel ?? all.enforcementLevel ?? rule.enforcementLevel;
        if (enforcement === "disabled") continue;
        const cfg = ruleConfig(rule, own.settings);
        const base = { rule: rule.name, severity: rule.severity, enforcement, remediation: rule.remediation };
        if (rule.kind === "resource") {
            for (const r of resources) {
                if (!applies(rule, r.type)) continue;
                for (const message of rule.validate(r, cfg)) out.push({ ...base, resource: r.name, type: r.type, urn: r.urn, message });
            }
        } else {
            for (const v of rule.validate(resources, cfg)) {
                const r = v.urn ? resources.find((x) => x.urn === v.urn) : undefined;
                out.push({ ...base, resource: r?.name, type: r?.type, urn: v.urn, message: v.message });
            }
        }
    }
    return out;
}

export function mandatory(violations: Violation[]): Violation[] {
    return violations.filter((v) => v.enforcement === "mandatory");
}
