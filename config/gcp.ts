import { z } from "zod";
import { managedPath } from "./formats";

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
    "NVIDIA_H100_MEGA_80GB",
    "NVIDIA_H200_141GB",
] as const;

export type WorkbenchAccelerator = (typeof workbenchAccelerators)[number];

/**
 * The A3 machine types and their built-in GPUs. Sources: Compute Engine "GPU machine types"
 * (cloud.google.com/compute/docs/gpus: A3 High a3-highgpu-1g/2g/4g/8g and A3 Edge a3-edgegpu-8g carry H100 80GB,
 * A3 Mega a3-megagpu-8g H100 Mega 80GB, A3 Ultra a3-ultragpu-8g H200 141GB) and the accelerator names the provider
 * takes (@pulumi/gcp 9.x `workbench.Instance` gceSetup.acceleratorConfigs[].type and Vertex AI's AcceleratorType
 * enum: NVIDIA_H100_80GB, NVIDIA_H100_MEGA_80GB, NVIDIA_H200_141GB).
 */
export const a3MachineTypes: Readonly<Record<string, { type: WorkbenchAccelerator; count: number }>> = {
    "a3-highgpu-1g": { type: "NVIDIA_H100_80GB", count: 1 },
    "a3-highgpu-2g": { type: "NVIDIA_H100_80GB", count: 2 },
    "a3-highgpu-4g": { type: "NVIDIA_H100_80GB", count: 4 },
    "a3-highgpu-8g": { type: "NVIDIA_H100_80GB", count: 8 },
    "a3-edgegpu-8g": { type: "NVIDIA_H100_80GB", count: 8 },
    "a3-megagpu-8g": { type: "NVIDIA_H100_MEGA_80GB", count: 8 },
    "a3-ultragpu-8g": { type: "NVIDIA_H200_141GB", count: 8 },
};

/** What the "takes no GPU" messages offer instead. */
export const GPU_MACHINE_TYPES = "n1-* (T4, V100, P100), g2-standard-* (L4), a2-* (A100), a3-highgpu-*/a3-edgegpu-8g (H100), a3-megagpu-8g (H100 Mega) or a3-ultragpu-8g (H200)";

/**
 * Which accelerators a Workbench machine type can carry. N1 takes T4, V100 or
 * P100 in 1, 2, 4 (V100: 8) units; the accelerator-optimized families come
 * with their GPU built in, so the type and count follow from the machine type.
 * Source: Compute Engine "GPU machine types" (cloud.google.com/compute/docs/gpus).
 */
export function acceleratorsFor(machineType: string): { types: readonly WorkbenchAccelerator[]; counts: readonly number[]; builtIn: boolean } {
    const family = machineType.split("-")[0];
    const suffix = /-(\d+)g$/.exec(machineType);
    const n = suffix ? Number(suffix[1]) : undefined;
    switch (family) {
        case "n1":
            return { types: ["NVIDIA_TESLA_T4", "NVIDIA_TESLA_V100", "NVIDIA_TESLA_P100"], counts: [1, 2, 4, 8], builtIn: false };
        case "g2": {
            const vcpus = Number(/^g2-standard-(\d+)$/.exec(machineType)?.[1] ?? NaN);
            const gpus: Record<number, number> = { 4: 1, 8: 1, 12: 1, 16: 1, 24: 2, 32: 1, 48: 4, 96: 8 };
            return { types: ["NVIDIA_L4"], counts: gpus[vcpus] ? [gpus[vcpus]] : [], builtIn: true };
        }
        case "a2":
            return {
                types: machineType.startsWith("a2-ultragpu-") ? ["NVIDIA_A100_80GB"] : ["NVIDIA_TESLA_A100"],
                counts: n !== undefined && [1, 2, 4, 8].includes(n) ? [n] : [],
                builtIn: true,
            };
        case "a3": {
            const a3 = a3MachineTypes[machineType];
            return a3 ? { types: [a3.type], counts: [a3.count], builtIn: true } : { types: [], counts: [], builtIn: false };
        }
        default:
            return { types: [], counts: [], builtIn: false };
    }
}

/** N1 limits per GPU model (V100 is the only one offered in eights). */
export const n1MaxCount: Partial<Record<WorkbenchAccelerator, number>> = { NVIDIA_TESLA_T4: 4, NVIDIA_TESLA_V100: 8, NVIDIA_TESLA_P100: 4 };

/**
 * Zones that offer each accelerator, for the regions listed here only (a zone
 * in another region is not checked, nor an accelerator a region's entry does
 * not list: H100 Mega and H200 zones are not recorded here). Small on purpose;
 * extend it when you use a new region, from
 * `gcloud compute accelerator-types list --filter="zone:(ZONE)"`.
 */
export const acceleratorZones: Record<string, Partial<Record<WorkbenchAccelerator, readonly string[]>>> = {
    "europe-west4": {
        NVIDIA_TESLA_T4: ["a", "b", "c"],
        NVIDIA_L4: ["a", "b", "c"],
        NVIDIA_TESLA_V100: ["a", "b", "c"],
        NVIDIA_TESLA_P100: ["a"],
        NVIDIA_TESLA_A100: ["a", "b"],
        NVIDIA_A100_80GB: ["a"],
        NVIDIA_H100_80GB: ["b", "c"],
    },
    "us-central1": {
        NVIDIA_TESLA_T4: ["a", "b", "c", "f"],
        NVIDIA_L4: ["a", "b", "c"],
        NVIDIA_TESLA_V100: ["a", "b", "c", "f"],
        NVIDIA_TESLA_P100: ["c", "f"],
        NVIDIA_TESLA_A100: ["a", "b", "c", "f"],
        NVIDIA_A100_80GB: ["a", "c"],
        NVIDIA_H100_80GB: ["a", "b", "c"],
    },
};

/**
 * Google Cloud regions and the letters of their zones: a region or zone not
 * here is refused before anything is created (a typo would otherwise fail
 * minutes into `pulumi up`). Extend it from `gcloud compute zones list` when
 * Google opens a region.
 */
export const gcpRegions: Record<string, readonly string[]> = {
    "africa-south1": ["a", "b", "c"],
    "asia-east1": ["a", "b", "c"],
    "asia-east2": ["a", "b", "c"],
    "asia-northeast1": ["a", "b", "c"],
    "asia-northeast2": ["a", "b", "c"],
    "asia-northeast3": ["a", "b", "c"],
    "asia-south1": ["a", "b", "c"],
    "asia-south2": ["a", "b", "c"],
    "asia-southeast1": ["a", "b", "c"],
    "asia-southeast2": ["a", "b", "c"],
    "australia-southeast1": ["a", "b", "c"],
    "australia-southeast2": ["a", "b", "c"],
    "europe-central2": ["a", "b", "c"],
    "europe-north1": ["a", "b", "c"],
    "europe-north2": ["a", "b", "c"],
    "europe-southwest1": ["a", "b", "c"],
    "europe-west1": ["b", "c", "d"],
    "europe-west2": ["a", "b", "c"],
    "europe-west3": ["a", "b", "c"],
    "europe-west4": ["a", "b", "c"],
    "europe-west6": ["a", "b", "c"],
    "europe-west8": ["a", "b", "c"],
    "europe-west9": ["a", "b", "c"],
    "europe-west10": ["a", "b", "c"],
    "europe-west12": ["a", "b", "c"],
    "me-central1": ["a", "b", "c"],
    "me-central2": ["a", "b", "c"],
    "me-west1": ["a", "b", "c"],
    "northamerica-northeast1": ["a", "b", "c"],
    "northamerica-northeast2": ["a", "b", "c"],
    "northamerica-south1": ["a", "b", "c"],
    "southamerica-east1": ["a", "b", "c"],
    "southamerica-west1": ["a", "b", "c"],
    "us-central1": ["a", "b", "c", "f"],
    "us-east1": ["b", "c", "d"],
    "us-east4": ["a", "b", "c"],
    "us-east5": ["a", "b", "c"],
    "us-south1": ["a", "b", "c"],
    "us-west1": ["a", "b", "c"],
    "us-west2": ["a", "b", "c"],
    "us-west3": ["a", "b", "c"],
    "us-west4": ["a", "b", "c"],
};

/** Cloud Storage multi-regions and predefined dual-regions; any region of gcpRegions is a bucket location too. */
export const bucketMultiRegions: readonly string[] = ["ASIA", "EU", "US", "ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4"];

/**
 * Currencies a Cloud Billing account (and so its budget) can be in. A budget's
 * currency must be its billing account's; a code not here is refused.
 */
export const billingCurrencies: readonly string[] = [
    "AED", "ARS", "AUD", "BGN", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EGP", "EUR", "GBP", "HKD", "HUF", "IDR",
    "ILS", "INR", "JPY", "KRW", "KZT", "MXN", "MYR", "NGN", "NOK", "NZD", "PEN", "PHP", "PLN", "RON", "RUB", "SAR", "SEK", "SGD",
    "THB", "TRY", "TWD", "UAH", "USD", "VND", "ZAR",
];

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
    currency: z
        .string()
        .refine((c) => billingCurrencies.includes(c), "expected the ISO 4217 code of a currency Cloud Billing accounts use, such as \"USD\" or \"EUR\" (table: config/gcp.ts)")
        .default("USD"),
    /** Fractions of the amount that notify, e.g. [0.5, 0.9, 1.0]. */
    thresholds: z.array(z.number().gt(0).max(10)).min(1).default([0.5, 0.9, 1.0]),
    pubsubNotifications: z.boolean().default(false),
});

const github = z.strictObject({
    /** "owner/name" of the repository whose workflows may deploy. */
    repository: z.string().regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, "expected \"owner/name\""),
    /** Numeric ids pin the repository even if it is renamed or recreated by someone else. */
    repositoryId: z.string().regex(/^[1-9]\d{0,19}$/, "expected the numeric GitHub repository id, not empty or 0 (gh api repos/OWNER/NAME --jq .id)"),
    ownerId: z.string().regex(/^[1-9]\d{0,19}$/, "expected the numeric GitHub owner id, not empty or 0 (gh api users/OWNER --jq .id)"),
    /** Branch that may deploy (the preview identity is allowed on every ref). */
    deployBranch: z
        .string()
        .regex(/^(?!\/|.*(\.\.|\/\/|\/$|\.lock$|@\{))[A-Za-z0-9._/-]{1,200}$/, "expected a branch name such as \"main\" or \"release/1.x\" (letters, digits, '.', '_', '-', '/'; no '..')")
        .default("main"),
    /**
     * The GitHub environment a deploy job runs in (`environment:` of the job, with required
     * reviewers): the deploy identity's attribute condition requires it, so a workflow on the
     * deploy branch that skips the environment's review cannot deploy.
     */
    deployEnvironment: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,100}$/, "expected a GitHub environment name such as \"production\" (letters, digits, '.', '_', '-')")
        .default("production"),
    /** The Pulumi state bucket (name, no gs://): the deploy identity reads and writes it, the preview identity only reads. */
    stateBucket: z
        .string()
        .regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, "expected a Cloud Storage bucket name without gs://, such as \"my-team-pulumi-state\"")
        .optional(),
    /** The Cloud KMS key of the stack's secrets provider: only the deploy identity may encrypt and decrypt with it. */
    stateKmsKey: z
        .string()
        .regex(
            /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/locations\/[a-z0-9-]+\/keyRings\/[A-Za-z0-9_-]{1,63}\/cryptoKeys\/[A-Za-z0-9_-]{1,63}$/,
            "expected a key name projects/P/locations/L/keyRings/R/cryptoKeys/K (the gcpkms:// secrets provider without its scheme)",
        )
        .optional(),
});

const network = z.strictObject({
    /** A VPC for private Vertex resources (Workbench): subnet with Private Google Access, Cloud NAT, minimal firewall. */
    enabled: z.boolean().default(true),
    subnetCidr: z
        .string()
        .regex(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-9])$/, "expected an IPv4 CIDR from /16 to /29 such as \"10.20.0.0/24\"")
        .default("10.20.0.0/24"),
    /** VPC flow logs on the subnet (sampled at 10%, 10-minute aggregation). */
    flowLogs: z.boolean().default(true),
});

/** Who may read a secret's value, by the stack's own service accounts. */
export const secretAccessors = ["workstation", "training", "workbench"] as const;

const secrets = z.record(
    z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "expected a secret name: lowercase letters, digits and '-', up to 40 characters"),
    z.strictObject({
        accessors: z.array(z.enum(secretAccessors)).default([]),
    }),
);

const workstationIdentity = z.strictObject({
    /** An X.509 workload identity provider and a client certificate for the workstation. */
    enabled: z.boolean().default(true),
    /** Where the workstation keeps its certificate, key and credential files. */
    certDir: managedPath.default("/etc/aihpc/gcp"),
    /** Client certificate lifetime; Pulumi renews it on the first `up` after 80% of it. */
    certValidityDays: days(7, 825).default(365),
    /**
     * Research users (workstation.base.users) get certificates of their own, each a principal of
     * the pool; every one is in the lab's principal set, which has the workstation's data and
     * registry access. Extra project roles for one user: `{ alice: ["roles/aiplatform.admin"] }`.
     */
    userRoles: z
        .record(
            z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "expected a research user's Unix name"),
            z.array(z.string().regex(/^roles\/[A-Za-z0-9._]+$/, "expected a predefined role such as \"roles/aiplatform.user\"")).min(1),
        )
        .default({}),
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
    network: network.prefault({}),
    workstationIdentity: workstationIdentity.prefault({}),
    /** Secret Manager secrets the stack keeps; values are added out of band (`gcloud secrets versions add`), never in state. */
    secrets: secrets.default({}),
    /** Members such as `user:alice@example.com` are refused unless this is on. */
    allowUserMembers: z.boolean().default(false),
});

export type GcpConfig = z.infer<typeof gcpSchema>;

/** The zone of zonal resources (the Workbench instance): `gcp.zone`, default `<region>-a`. */
export function gcpZone(g: Pick<GcpConfig, "region" | "zone">): string {
    return g.zone ?? `${g.region}-a`;
}
