import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { applies, Rule, RuleResource, ruleConfig } from "./rules";

// Rule -> CrossGuard policy. Kept apart from index.ts, whose PolicyPack starts
// the policy server on import, so that tests can exercise the adapter.

function describe(rule: Rule) {
    return {
        name: rule.name,
        description: `${rule.description} [${rule.sources.join("; ")}]`,
        enforcementLevel: rule.enforcementLevel,
        severity: rule.severity,
        remediationSteps: rule.remediation,
        configSchema: rule.config ? { properties: rule.config as any } : undefined,
    };
}

export function toPolicy(rule: Rule): ResourceValidationPolicy | StackValidationPolicy {
    if (rule.kind === "resource") {
        return {
            ...describe(rule),
            validateResource: (args, report) => {
                if (!applies(rule, args.type)) return;
                const r: RuleResource = { type: args.type, name: args.name, urn: args.urn, props: args.props, protect: args.opts.protect };
                for (const m of rule.validate(r, ruleConfig(rule, args.getConfig()))) report(m);
            },
        };
    }
    return {
        ...describe(rule),
        validateStack: (args, report) => {
            const resources = args.resources.map<RuleResource>((x) => ({ type: x.type, name: x.name, urn: x.urn, props: x.props, protect: x.opts.protect }));
            for (const v of rule.validate(resources, ruleConfig(rule, args.getConfig()))) report(v.message, v.urn);
        },
    };
}
