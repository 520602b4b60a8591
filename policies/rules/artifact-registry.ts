import { grantsOf, isIamType, ResourceRule } from "./types";

const REPO = "gcp:artifactregistry/repository:Repository";
const isDocker = (p: Record<string, any>) => p.format === "DOCKER" && (p.mode ?? "STANDARD_REPOSITORY") === "STANDARD_REPOSITORY";

export const artifactRegistryRules: ResourceRule[] = [
    {
        kind: "resource",
        name: "registry-no-public-iam",
        description: "No Artifact Registry repository grants access to allUsers or allAuthenticatedUsers.",
        severity: "critical",
        sources: ["CKV_GCP_101", "CIS GCP 7.1 (analogue for registries)"],
        remediation: "Grant reader roles to the service accounts that pull, never to allUsers/allAuthenticatedUsers.",
        enforcementLevel: "mandatory",
        appliesTo: (t) => t.startsWith("gcp:artifactregistry/") && isIamType(t),
        validate: (r) =>
            grantsOf(r)
                .filter((g) => g.member === "allUsers" || g.member === "allAuthenticatedUsers")
                .map((g) => `grants ${g.role} to ${g.member}`),
    },
    {
        kind: "resource",
        name: "registry-immutable-tags",
        description: "Docker repositories make tags immutable, so a tag always names the same image.",
        severity: "medium",
        sources: ["Google Cloud Artifact Registry best practice: immutable tags"],
        remediation: "Set dockerConfig: { immutableTags: true }.",
        enforcementLevel: "mandatory",
        appliesTo: [REPO],
        validate: (r) => (isDocker(r.props) && r.props.dockerConfig?.immutableTags !== true ? ["Docker repository allows tags to be moved"] : []),
    },
    {
        kind: "resource",
        name: "registry-cleanup-policies",
        description: "Docker repositories have active cleanup policies (keep recent, delete untagged).",
        severity: "low",
        sources: ["Google Cloud Artifact Registry cleanup policies"],
        remediation: "Add cleanupPolicies with a KEEP mostRecentVersions and a DELETE untagged olderThan, and cleanupPolicyDryRun: false.",
        enforcementLevel: "mandatory",
        appliesTo: [REPO],
        validate: (r) => {
            if (!isDocker(r.props)) return [];
            const policies: any[] = Array.isArray(r.props.cleanupPolicies) ? r.props.cleanupPolicies : [];
            const out: string[] = [];
            if (!policies.some((p) => p.action === "KEEP")) out.push("no KEEP cleanup policy");
            if (!policies.some((p) => p.action === "DELETE")) out.push("no DELETE cleanup policy");
            if (r.props.cleanupPolicyDryRun === true) out.push("cleanup policies run in dry-run mode only");
            return out;
        },
    },
    {
        kind: "resource",
        name: "registry-vulnerability-scanning",
        description: "Vulnerability scanning is not disabled on repositories.",
        severity: "medium",
        sources: ["CIS GCP 7.x (container analysis)", "AVD-GCP-0067 (analogue)"],
        remediation: "Remove vulnerabilityScanningConfig.enablementConfig: DISABLED.",
        enforcementLevel: "mandatory",
        appliesTo: [REPO],
        validate: (r) => (r.props.vulnerabilityScanningConfig?.enablementConfig === "DISABLED" ? ["vulnerability scanning is disabled"] : []),
    },
];
