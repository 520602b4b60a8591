import { grantsOf, isIamType, isProjectIamType, ResourceRule } from "./types";

const BASIC = new Set(["roles/owner", "roles/editor", "roles/viewer"]);
const DEFAULT_COMPUTE = /-compute@developer\.gserviceaccount\.com$/;
const IMPERSONATION = new Set(["roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator"]);

export const iamRules: ResourceRule[] = [
    {
        kind: "resource",
        name: "iam-no-service-account-keys",
        description: "No service account keys: workloads use workload identity federation.",
        severity: "critical",
        sources: ["CIS GCP 1.4", "CKV_GCP_41 (analogue)", "AVD-GCP-0044 (analogue)"],
        remediation: "Remove the key; use the stack's workload identity providers (GitHub OIDC, workstation X.509).",
        enforcementLevel: "mandatory",
        appliesTo: ["gcp:serviceaccount/key:Key"],
        validate: () => ["a service account key is a long-lived secret"],
    },
    {
        kind: "resource",
        name: "iam-no-basic-roles",
        description: "No basic roles (owner, editor, viewer) anywhere.",
        severity: "high",
        sources: ["CIS GCP 1.5", "CKV_GCP_117", "AVD-GCP-0007 (analogue)"],
        remediation: "Grant predefined roles scoped to what the member does.",
        enforcementLevel: "mandatory",
        appliesTo: isIamType,
        validate: (r) => grantsOf(r).filter((g) => BASIC.has(g.role)).map((g) => `grants basic role ${g.role} to ${g.member}`),
    },
    {
        kind: "resource",
        name: "iam-no-admin-roles-for-service-accounts",
        description: "Service accounts get no admin roles.",
        severity: "high",
        sources: ["CIS GCP 1.5", "CKV_GCP_42"],
        remediation: "Grant the narrower user/writer/viewer role the workload needs.",
        enforcementLevel: "mandatory",
        config: {
            exemptMembers: {
                type: "array",
                items: { type: "string" },
                // The deployer creates IAM, buckets and registries: admin roles are its job.
                default: ["^serviceAccount:[a-z0-9-]+-ci-deploy@[a-z0-9-]+\\.iam\\.gserviceaccount\\.com$"],
                description: "Regular expressions of members that may hold admin roles (the CI deploy identity).",
            },
        },
        appliesTo: isIamType,
        validate: (r, cfg) =>
            grantsOf(r)
                .filter((g) => g.member.startsWith("serviceAccount:") && /(admin|Admin)$/.test(g.role))
                .filter((g) => !(cfg.exemptMembers as string[]).some((re) => new RegExp(re).test(g.member)))
                .map((g) => `grants admin role ${g.role} to ${g.member}`),
    },
    {
        kind: "resource",
        name: "iam-no-project-impersonation",
        description: "serviceAccountUser and serviceAccountTokenCreator are granted on one service account, never on the project.",
        severity: "high",
        sources: ["CIS GCP 1.6", "CKV_GCP_49"],
        remediation: "Grant the role on the service account resource (gcp.serviceaccount.IAMMember) instead.",
        enforcementLevel: "mandatory",
        appliesTo: isProjectIamType,
        validate: (r) => grantsOf(r).filter((g) => IMPERSONATION.has(g.role)).map((g) => `grants ${g.role} on the whole project to ${g.member}`),
    },
    {
        kind: "resource",
        name: "iam-no-default-compute-sa",
        description: "Nothing is granted to the default compute service account.",
        severity: "high",
        sources: ["CIS GCP 4.1", "CKV_GCP_30 (analogue)"],
        remediation: "Create a dedicated service account and grant to it.",
        enforcementLevel: "mandatory",
        appliesTo: isIamType,
        validate: (r) => grantsOf(r).filter((g) => DEFAULT_COMPUTE.test(g.member)).map((g) => `grants ${g.role} to the default compute service account`),
    },
    {
        kind: "resource",
        name: "iam-no-user-members",
        description: "No personal user: members unless the policy config allows them (use groups).",
        severity: "medium",
        sources: ["CIS GCP 1.1 (corporate identities)", "CKV_GCP_112 (analogue)"],
        remediation: "Grant to a group: (group:ml-team@example.com), or set allowUserMembers in the policy config.",
        enforcementLevel: "mandatory",
        config: { allowUserMembers: { type: "boolean", default: false, description: "Allow user: members in IAM grants." } },
        appliesTo: isIamType,
        validate: (r, cfg) => (cfg.allowUserMembers ? [] : grantsOf(r).filter((g) => g.member.startsWith("user:")).map((g) => `grants ${g.role} to ${g.member}`)),
    },
    {
        kind: "resource",
        name: "iam-no-wildcard-principal-sets",
        description: "No grant to every identity of a workload identity pool (a principalSet ending in /*).",
        severity: "critical",
        sources: ["Google Cloud workload identity federation best practice"],
        remediation: "Grant to principalSet://.../attribute.repository_id/ID or principal://.../subject/..., never /*.",
        enforcementLevel: "mandatory",
        appliesTo: isIamType,
        validate: (r) => grantsOf(r).filter((g) => /^principalSet:\/\/.*\/\*$/.test(g.member)).map((g) => `grants ${g.role} to every identity of a pool (${g.member})`),
    },
];
