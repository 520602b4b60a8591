import * as pulumi from "@pulumi/pulumi";
import { GcpConfig } from "../../../config";
import { GcpContext } from "../context";
import { IamArgs } from "../iam";
import { abortIncompleteUploads, Bucket } from "./bucket";

export { Bucket, abortIncompleteUploads } from "./bucket";
export type { BucketArgs } from "./bucket";

export type BucketRole = "datasets" | "artifacts" | "checkpoints";

export interface StorageArgs {
    ctx: GcpContext;
    config: GcpConfig["buckets"];
    /** Grants per bucket, in the one IAM shape. */
    iam?: Partial<Record<BucketRole, IamArgs>>;
}

/**
 * Buckets for training data, models and checkpoints.
 * - datasets: versioned (an overwrite or delete is recoverable), noncurrent
 *   versions kept 30 days, objects move to NEARLINE then COLDLINE;
 * - artifacts: versioned, the newest `keepVersions` noncurrent versions kept;
 * - checkpoints: objects expire; versioned, but noncurrent versions kept only
 *   3 days (checkpoints are rewritten constantly).
 * Datasets and artifacts are protected from `pulumi destroy` by default.
 */
export class Storage extends pulumi.ComponentResource {
    public readonly buckets: Partial<Record<BucketRole, Bucket>> = {};

    constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:Storage", name, {}, opts);
        const { ctx, config: c } = args;
        const location = (c.location ?? ctx.region).toUpperCase();
        const common = { ctx, location, softDeleteDays: c.softDeleteDays };
        if (c.datasets.enabled) {
            const cold = c.datasets.coldAfterDays;
            this.buckets.datasets = new Bucket(
                `${name}-datasets`,
                {
                    ...common,
                    ...args.iam?.datasets,
                    role: "datasets",
                    versioning: true,
                    protect: c.datasets.protect,
                    lifecycleRules: [
                        { action: { type: "SetStorageClass", storageClass: "NEARLINE" }, condition: { age: cold, matchesStorageClasses: ["STANDARD"] } },
                        { action: { type: "SetStorageClass", storageClass: "COLDLINE" }, condition: { age: cold * 3, matchesStorageClasses: ["NEARLINE"] } },
                        { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 30, withState: "ARCHIVED" } },
                        abortIncompleteUploads(7),
                    ],
                },
                { parent: this },
            );
        }
        if (c.artifacts.enabled) {
            this.buckets.artifacts = new Bucket(
                `${name}-artifacts`,
                {
                    ...common,
                    ...args.iam?.artifacts,
                    role: "artifacts",
                    versioning: true,
                    protect: c.artifacts.protect,
                    lifecycleRules: [
                        { action: { type: "Delete" }, condition: { numNewerVersions: c.artifacts.keepVersions, withState: "ARCHIVED" } },
                        abortIncompleteUploads(7),
                    ],
                },
                { parent: this },
            );
        }
        if (c.checkpoints.enabled) {
            this.buckets.checkpoints = new Bucket(
                `${name}-checkpoints`,
                {
                    ...common,
                    ...args.iam?.checkpoints,
                    role: "checkpoints",
                    // Versioned so an overwritten or deleted checkpoint can be restored for a few days;
                    // noncurrent versions go after 3 days to keep the cost of frequent rewrites bounded.
                    versioning: true,
                    protect: c.checkpoints.protect,
                    lifecycleRules: [
                        { action: { type: "Delete" }, condition: { age: c.checkpoints.expireDays } },
                        { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 3, withState: "ARCHIVED" } },
                        abortIncompleteUploads(1),
                    ],
                },
                { parent: this },
            );
        }
        this.registerOutputs({ buckets: this.urls() });
    }

    /** `gs://` URL of each enabled bucket. */
    urls(): pulumi.Output<Record<string, string>> {
        return pulumi.output(Object.fromEntries(Object.entries(this.buckets).map(([k, b]) => [k, b!.bucket.url])));
    }
}
