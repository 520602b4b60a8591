// Rule modules are plain data + functions: importable without starting the
// policy server, so the offline plan and the tests run the very same rules
// that the CrossGuard pack (../index.ts) serves to `pulumi preview`.

export type Severity = "low" | "medium" | "high" | "critical";
export type Enforcement = "advisory" | "mandatory" | "disabled";

/** A resource as a rule sees it: inputs in plain form (secrets revealed). */
export interface RuleResource {
    type: string;
    name: string;
    urn: string;
    props: Record<string, any>;
    protect: boolean;
    /** Known in the offline plan; CrossGuard does not expose it. */
    retainOnDelete?: boolean;
    /** Top-level inputs that carry a secret, where known (the offline plan). */
    secretInputs?: ReadonlySet<string>;
}

export interface ConfigProperty {
    type: "boolean" | "string" | "number" | "array";
    items?: { type: "string" };
    default: unknown;
    description: string;
}

interface RuleBase {
    /** Kebab-case, unique; the key in the policy config file. */
    name: string;
    description: string;
    severity: Severity;
    /** Benchmarks and scanner ids this rule follows (CIS GCP Foundations, Checkov, Trivy). */
    sources: string[];
    remediation: string;
    enforcementLevel: Enforcement;
    /** Settings of this rule, with defaults (Pulumi policy config schema). */
    config?: Record<string, ConfigProperty>;
}

export interface ResourceRule extends RuleBase {
    kind: "resource";
    /** Type tokens this rule looks at; a function for families (every IAM grant). */
    appliesTo: string[] | ((type: string) => boolean);
    validate(r: RuleResource, config: Record<string, any>): string[];
}

export interface StackViolation {
    message: string;
    urn?: string;
}

export interface StackRule extends RuleBase {
    kind: "stack";
    validate(resources: RuleResource[], config: Record<string, any>): StackViolation[];
}

export type Rule = ResourceRule | StackRule;

export function applies(rule: ResourceRule, type: string): boolean {
    return typeof rule.appliesTo === "function" ? rule.appliesTo(type) : rule.appliesTo.includes(type);
}

/** Default config values of a rule, overridden by the given ones. */
export function ruleConfig(rule: Rule, given: Record<string, any> = {}): Record<string, any> {
    const out: Record<string, any> = {};
    for (const [k, p] of Object.entries(rule.config ?? {})) out[k] = p.default;
    for (const [k, v] of Object.entries(given)) if (k !== "enforcementLevel") out[k] = v;
    return out;
}

// ---- helpers shared by rules ----

export interface Grant {
    role: string;
    member: string;
}

/** Any IAM member/binding/policy resource of any Google Cloud service. */
export function isIamType(type: string): boolean {
    return /^gcp:[^:]+:[A-Za-z]*I(AM|am)(Member|Binding|Policy)$/.test(type);
}

/** Project-level grants (the ones that reach every resource of the project). */
export function isProjectIamType(type: string): boolean {
    return /^gcp:projects\/i[Aa][Mm](Member|Binding|Policy):/.test(type);
}

/** The (role, member) pairs an IAM resource grants. */
export function grantsOf(r: RuleResource): Grant[] {
    const p = r.props;
    if (/(Member)$/.test(r.type)) return typeof p.member === "string" ? [{ role: p.role, member: p.member }] : [];
    if (/(Binding)$/.test(r.type)) return (Array.isArray(p.members) ? p.members : []).map((m: string) => ({ role: p.role, member: m }));
    if (/(Policy)$/.test(r.type) && typeof p.policyData === "string") {
        try {
            const doc = JSON.parse(p.policyData) as { bindings?: { role: string; members: string[] }[] };
            return (doc.bindings ?? []).flatMap((b) => b.members.map((m) => ({ role: b.role, member: m })));
        } catch {
            return [];
        }
    }
    return [];
}

/** `role` label, else the last word of the resource's own name. */
export function roleOf(r: RuleResource): string {
    const label = r.props.labels?.role;
    if (typeof label === "string") return label;
    return String(r.props.name ?? r.name);
}

export function truthy(v: unknown): boolean {
    return v === true || v === "true";
}
