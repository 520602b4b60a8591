import { grantsOf, isIamType, ResourceRule, roleOf } from "./types";

const BUCKET = "gcp:storage/bucket:Bucket";
const PUBLIC = new Set(["allUsers", "allAuthenticatedUsers"]);
const holds = (r: Parameters<ResourceRule["validate"]>[0], ...words: string[]) => words.some((w) => roleOf(r).includes(w));

export const storageRules: ResourceRule[] = [
    {
        kind: "resource",
        name: "bucket-uniform-access",
        description: "Buckets use uniform bucket-level access (no per-object ACLs).",
        severity: "high",
        sources: ["CIS GCP 5.2", "CKV_GCP_29", "AVD-GCP-0002"],
        remediation: "Set uniformBucketLevelAccess: true on the bucket.",
        enforcementLevel: "mandatory",
        appliesTo: [BUCKET],
        validate: (r) => (r.props.uniformBucketLevelAccess === true ? [] : ["uniform bucket-level access is off"]),
    },
    {
        kind: "resource",
        name: "bucket-public-access-prevention",
        description: "Buckets enforce public access prevention.",
        severity: "critical",
        sources: ["CIS GCP 5.1", "CKV_GCP_114", "AVD-GCP-0001"],
        remediation: "Set publicAccessPrevention: \"enforced\" on the bucket.",
        enforcementLevel: "mandatory",
        appliesTo: [BUCKET],
        validate: (r) => (r.props.publicAccessPrevention === "enforced" ? [] : [`publicAccessPrevention is '${r.props.publicAccessPrevention ?? "inherited"}', not 'enforced'`]),
    },
    {
        kind: "resource",
        name: "bucket-no-public-iam",
        description: "No bucket grants access to allUsers or allAuthenticatedUsers.",
        severity: "critical",
        sources: ["CIS GCP 5.1", "CKV_GCP_28", "AVD-GCP-0001"],
        remediation: "Grant access to service accounts or groups, never to allUsers/allAuthenticatedUsers.",
        enforcementLevel: "mandatory",
        appliesTo: (t) => t.startsWith("gcp:storage/") && isIamType(t),
        validate: (r) => grantsOf(r).filter((g) => PUBLIC.has(g.member)).map((g) => `grants ${g.role} to ${g.member}`),
    },
    {
        kind: "resource",
        name: "bucket-versioning",
        description: "Buckets that hold artifacts or checkpoints keep object versions.",
        severity: "medium",
        sources: ["CKV_GCP_78"],
        remediation: "Set versioning: { enabled: true } and a lifecycle rule that limits noncurrent versions.",
        enforcementLevel: "mandatory",
        appliesTo: [BUCKET],
        validate: (r) => (holds(r, "artifact", "checkpoint", "model") && r.props.versioning?.enabled !== true ? [`bucket for ${roleOf(r)} has versioning off`] : []),
    },
    {
        kind: "resource",
        name: "bucket-soft-delete",
        description: "Soft delete stays on, so a deleted object can be recovered.",
        severity: "medium",
        sources: ["Google Cloud Storage best practice: soft delete"],
        remediation: "Remove softDeletePolicy.retentionDurationSeconds: 0 (7 days is the default).",
        enforcementLevel: "mandatory",
        appliesTo: [BUCKET],
        validate: (r) => (Number(r.props.softDeletePolicy?.retentionDurationSeconds ?? 604800) === 0 ? ["soft delete is turned off"] : []),
    },
    {
        kind: "resource",
        name: "bucket-checkpoint-lifecycle",
        description: "Checkpoint buckets expire old objects.",
        severity: "low",
        sources: ["CIS GCP 5.3 (lifecycle)"],
        remediation: "Add a lifecycle rule with action Delete and a condition age.",
        enforcementLevel: "mandatory",
        appliesTo: [BUCKET],
        validate: (r) => {
            if (!holds(r, "checkpoint")) return [];
            const rules: any[] = Array.isArray(r.props.lifecycleRules) ? r.props.lifecycleRules : [];
            return rules.some((x) => x.action?.type === "Delete" && x.condition?.age !== undefined) ? [] : ["checkpoint bucket has no Delete lifecycle rule by age"];
        },
    },
    {
        kind: "resource",
        name: "bucket-data-protected",
        description: "Buckets that hold datasets or artifacts survive `pulumi destroy`.",
        severity: "high",
        sources: ["aihpc: losing a dataset to a teardown is the worst outcome"],
        remediation: "Keep buckets.<kind>.protect on (protect + retainOnDelete), and never set forceDestroy.",
        enforcementLevel: "mandatory",
        appliesTo: [BUCKET],
        validate: (r) => {
            const out: string[] = [];
            if (r.props.forceDestroy === true) out.push("forceDestroy would delete every object with the bucket");
            if (holds(r, "dataset", "artifact") && !r.protect && r.retainOnDelete !== true) out.push(`bucket for ${roleOf(r)} is neither protected nor retained on delete`);
            return out;
        },
    },
];
