import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GcpConfig } from "../../../config";
import { GcpContext } from "../context";

export interface VertexArgs {
    ctx: GcpContext;
    config: Pick<GcpConfig["vertex"], "tensorboard" | "metadataStore" | "endpoint">;
}

/**
 * Vertex AI experiment tracking: a Tensorboard instance (billed by stored
 * GiB), a metadata store for Vertex Experiments and lineage, and optionally an
 * endpoint for online prediction (no cost until a model is deployed to it).
 */
export class Vertex extends pulumi.ComponentResource {
    public readonly tensorboard?: gcp.vertex.AiTensorboard;
    public readonly metadataStore?: gcp.vertex.AiMetadataStore;
    public readonly endpoint?: gcp.vertex.AiEndpoint;

    constructor(name: string, args: VertexArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:Vertex", name, {}, opts);
        const { ctx, config: c } = args;
        const n = ctx.naming;
        if (c.tensorboard) {
            this.tensorboard = new gcp.vertex.AiTensorboard(
                `${name}-tensorboard`,
                { project: ctx.project, region: ctx.region, displayName: n.name("tensorboard"), description: "aihpc training runs", labels: ctx.labels },
                { parent: this },
            );
        }
        if (c.metadataStore) {
            // The metadata store takes no labels; its name allows only [a-z0-9_].
            this.metadataStore = new gcp.vertex.AiMetadataStore(
                `${name}-metadata`,
                { project: ctx.project, region: ctx.region, name: n.underscored("metadata"), description: "aihpc experiments and lineage" },
                { parent: this },
            );
        }
        if (c.endpoint) {
            this.endpoint = new gcp.vertex.AiEndpoint(
                `${name}-endpoint`,
                {
                    project: ctx.project,
                    region: ctx.region,
                    location: ctx.region,
                    // Endpoint ids are numeric: a stable one derived from the name scheme.
                    name: n.numericId("endpoint"),
                    displayName: n.name("endpoint"),
                    description: "aihpc online prediction",
                    labels: ctx.labels,
                },
                { parent: this },
            );
        }
        this.registerOutputs({ tensorboard: this.tensorboard?.name, metadataStore: this.metadataStore?.name, endpoint: this.endpoint?.name });
    }
}
