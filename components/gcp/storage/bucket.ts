import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GcpContext } from "../context";
import { applyIam, IamArgs } from "../iam";

export interface BucketArgs extends IamArgs {
    ctx: GcpContext;
    /** Role in the name: `<prefix>-<stack>-<role>-<project>`. */
    role: string;
    location: string;
    softDeleteDays: number;
    versioning: boolean;
    lifecycleRules: gcp.types.input.storage.BucketLifecycleRule[];
    /** Refuse `pulumi destroy` of the bucket and keep it when it leaves the stack. */
    protect: boolean;
}

/**
 * A bucket with the secure defaults the storage API does not have: uniform
 * bucket-level access, public access prevention enforced, soft delete kept,
 * never force-destroyed.
 */
export class Bucket extends pulumi.ComponentResource {
    public readonly bucket: gcp.storage.Bucket;

    constructor(name: string, args: BucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:Bucket", name, {}, opts);
        const { ctx } = args;
        this.bucket = new gcp.storage.Bucket(
            `${name}-bucket`,
            {
                project: ctx.project,
                name: ctx.naming.global(args.role),
                location: args.location,
                storageClass: "STANDARD",
                uniformBucketLevelAccess: true,
                publicAccessPrevention: "enforced",
                softDeletePolicy: { retentionDurationSeconds: args.softDeleteDays * 86400 },
                versioning: { enabled: args.versioning },
                lifecycleRules: args.lifecycleRules,
                forceDestroy: false,
                labels: { ...ctx.labels, role: args.role },
            },
            { parent: this, protect: args.protect, retainOnDelete: args.protect },
        );
        applyIam(
            name,
            args,
            {
                binding: (n, role, members, o) => new gcp.storage.BucketIAMBinding(n, { bucket: this.bucket.name, role, members }, o),
                member: (n, role, member, condition, o) => new gcp.storage.BucketIAMMember(n, { bucket: this.bucket.name, role, member, condition }, o),
            },
            this,
            { allowUserMembers: ctx.allowUserMembers },
        );
        this.registerOutputs({ name: this.bucket.name, url: this.bucket.url });
    }
}

/** Abort multipart uploads left behind by interrupted copies (they are billed and invisible). */
export function abortIncompleteUploads(days: number): gcp.types.input.storage.BucketLifecycleRule {
    return { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: days } };
}
