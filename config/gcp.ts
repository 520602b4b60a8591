import { z } from "zod";

// GCP label rules: keys start with a lowercase letter; both up to 63 chars of
// lowercase letters, digits, '_' and '-'.
const labelKey = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, "expected a label key: lowercase letters, digits, '_' or '-', starting with a letter");
const labelValue = z.string().regex(/^[a-z0-9_-]{0,63}$/, "expected a label value: up to 63 lowercase letters, digits, '_' or '-'");

const days = (min: number, max: number) => z.number().int().min(min).max(max);

const bucket = {
    enabled: z.boolean().default(true),
    /** Refuse `pulumi destroy` of this bucket (Pulumi `protect`) and keep it if removed from the stack. */
    protect: z.boolean().default(true),
};

const buckets = z.strictObject({
    /** Multi-region, dual-region or region; default the stack's region. */
    location: z.string().regex(/^[A-Za-z0-9-]+$/, "expected a bucket location such as \"EU\" or \"europe-west4\"").optional(),
    /** Days a deleted object stays recoverable (0 turns soft delete off, which the policies reject). */
    softDeleteDays: days(7, 90).default(7),
    datasets: z
        .strictObject({
            ...bucket,
            /** Move objects to NEARLINE after this many days, COLDLINE after three times that. */
            coldAfterDays: days(1, 3650).default(90),
        })
        .prefault({}),
    artifacts: z
        .strictObject({
            ...bucket,
            /** Keep this many noncurrent versions of each object. */
            keepVersions: z.number().int().min(1).max(100).default(5),
        })
        .prefault({}),
    checkpoints: z
        .strictObject({
            enabled: z.boolean().default(true),
            protect: z.boolean().default(false),
            expireDays: days(1, 3650).default(30),
        })
        .prefault({}),
});

const artifactRegistry = z.strictObject({
    enabled: z.boolean().default(true),
    repository: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "expected a repository id: lowercase letters, digits and '-'").default("training"),
    keepRecent: z.number().int().min(1).max(1000).default(10),
    deleteUntaggedAfterDays: days(1, 365).default(14),
    /** A remote repository that caches Docker Hub images for the workstation. */
    remoteCache: z.boolean().default(false),
});

export const workbenchAccelerators = [
    "NVIDIA_TESLA_T4",
    "NVIDIA_L4",
    "NVIDIA_TESLA_V100",
    "NVIDIA_TESLA_P100",
    "NVIDIA_TESLA_A100",
    "NVIDIA_A100_80GB",
    "NVIDIA_H100_80GB",
] as const;

const workbench = z.strictObject({
    enabled: z.boolean().default(false),
    machineType: z.string().regex(/^[a-z0-9]+-[a-z0-9-]+$/, "expected a machine type such as \"n1-standard-8\" or \"g2-standard-8\"").default("n1-standard-8"),
    accelerator: z
        .strictObject({
            type: z.enum(workbenchAccelerators),
            count: z.number().int().refine((n) => [1, 2, 4, 8].includes(n), "expected 1, 2, 4 or 8").default(1),
        })
        .optional(),
    /** Shut the instance down after this much idle time. */
    idleTimeoutSeconds: z.number().int().min(600).max(604800).default(3600),
    rootAccess: z.boolean().default(false),
    fileDownloads: z.boolean().default(false),
    deletionProtection: z.boolean().default(true),
});

const vertex = z.strictObject({
    tensorboard: z.boolean().default(true),
    metadataStore: z.boolean().default(true),
    endpoint: z.boolean().default(false),
    workbench: workbench.prefault({}),
});

const budget = z.strictObject({
    billingAccount: z
        .string()
        .regex(/^[A-F0-9]{6}-[A-F0-9]{6}-[A-F0-9]{6}$/, "expected a billing account id such as \"012345-6789AB-CDEF01\""),
    /** Monthly amount in `currency` units. */
    amount: z.number().positive("expected a positive monthly amount"),
    currency: z.string().regex(/^[A-Z]{3}$/, "expected an ISO 4217 currency code such as \"USD\"").default("USD"),
    /** Fractions of the amount that notify, e.g. [0.5, 0.9, 1.0]. */
    thresholds: z.array(z.number().gt(0).max(10)).min(1).default([0.5, 0.9, 1.0]),
    pubsubNotifications: z.boolean().default(false),
});

const github = z.strictObject({
    /** "owner/name" of the repository whose workflows may deploy. */
    repository: z.string().regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, "expected \"owner/name\""),
    /** Numeric ids pin the repository even if it is renamed or recreated by someone else. */
    repositoryId: z.string().regex(/^\d+$/, "expected the numeric GitHub repository id (gh api repos/OWNER/NAME --jq .id)"),
    ownerId: z.string().regex(/^\d+$/, "expected the numeric GitHub owner id (gh api users/OWNER --jq .id)"),
    /** Branch that may deploy (the preview identity is allowed on every ref). */
    deployBranch: z.string().min(1).default("main"),
});

export const gcpSchema = z.strictObject({
    project: z
        .string()
        .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "expected a Google Cloud project id: 6-30 lowercase letters, digits or '-'"),
    region: z.string().regex(/^[a-z]+-[a-z]+\d+$/, "expected a region such as \"europe-west4\""),
    /** Default `<region>-a`. */
    zone: z.string().regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, "expected a zone such as \"europe-west4-a\"").optional(),
    /** Prefix of every resource name: `<prefix>-<stack>-<role>`. */
    prefix: z.string().regex(/^[a-z][a-z0-9]{0,9}$/, "expected up to 10 lowercase letters or digits, starting with a letter").default("aihpc"),
    labels: z.record(labelKey, labelValue).default({}),
    buckets: buckets.prefault({}),
    artifactRegistry: artifactRegistry.prefault({}),
    vertex: vertex.prefault({}),
    budget,
    github: github.optional(),
    /** Members such as `user:alice@example.com` are refused unless this is on. */
    allowUserMembers: z.boolean().default(false),
});

export type GcpConfig = z.infer<typeof gcpSchema>;
