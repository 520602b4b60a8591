import { ResourceRule } from "./types";

const PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider";
const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

export const workloadIdentityRules: ResourceRule[] = [
    {
        kind: "resource",
        name: "wif-attribute-condition",
        description: "Every workload identity provider has an attribute condition.",
        severity: "critical",
        sources: ["Google Cloud: attribute conditions are required for GitHub and other multi-tenant issuers"],
        remediation: "Set attributeCondition to pin the identities that may exchange tokens.",
        enforcementLevel: "mandatory",
        appliesTo: [PROVIDER],
        validate: (r) => (typeof r.props.attributeCondition === "string" && r.props.attributeCondition.trim() !== "" ? [] : ["no attributeCondition: any identity of the issuer could authenticate"]),
    },
    {
        kind: "resource",
        name: "wif-github-pins-ids",
        description: "GitHub providers pin the repository and its owner by numeric id (names can be re-registered).",
        severity: "high",
        sources: ["GitHub OIDC hardening: repository_id and repository_owner_id claims"],
        remediation: "Use attributeCondition: assertion.repository_id == 'ID' && assertion.repository_owner_id == 'ID'.",
        enforcementLevel: "mandatory",
        appliesTo: [PROVIDER],
        validate: (r) => {
            if (r.props.oidc?.issuerUri !== GITHUB_ISSUER) return [];
            const c = String(r.props.attributeCondition ?? "");
            const out: string[] = [];
            if (!/assertion\.repository_id\s*==\s*['"]\d+['"]/.test(c)) out.push("condition does not pin assertion.repository_id to a numeric id");
            if (!/assertion\.repository_owner_id\s*==\s*['"]\d+['"]/.test(c)) out.push("condition does not pin assertion.repository_owner_id to a numeric id");
            return out;
        },
    },
    {
        kind: "resource",
        name: "wif-deploy-environment",
        description: "A GitHub provider that can identify deploys (by ref or environment) requires a GitHub environment in its condition.",
        severity: "high",
        sources: ["GitHub: environments with required reviewers gate deployment jobs; the OIDC token carries the `environment` claim"],
        remediation: "Add && assertion.environment == 'production' (gcp.github.deployEnvironment) to the deploy provider's attributeCondition.",
        enforcementLevel: "mandatory",
        appliesTo: [PROVIDER],
        validate: (r) => {
            if (r.props.oidc?.issuerUri !== GITHUB_ISSUER) return [];
            const c = String(r.props.attributeCondition ?? "");
            const mapping = (r.props.attributeMapping ?? {}) as Record<string, string>;
            const deploys = "attribute.ref" in mapping || "attribute.environment" in mapping || /assertion\.ref\b/.test(c);
            if (!deploys) return [];
            return /assertion\.environment\s*==\s*['"][^'"]+['"]/.test(c)
                ? []
                : ["condition admits deploys by branch without requiring a GitHub environment: any workflow on that branch could deploy, reviewed or not"];
        },
    },
];
