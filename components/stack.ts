import * as pulumi from "@pulumi/pulumi";
import { hybridOf, StackConfig } from "../config";
import { GcpEnvironment, GcpOutputs } from "./gcp";
import { Hybrid } from "./hybrid";
import { EnvironmentSummary, environmentSummary } from "./hybrid/summary";
import { Workstation } from "./workstation";

/** Stack outputs: what `pulumi stack output` and the plan show. */
export interface StackOutputs {
    hosts: pulumi.Output<Record<string, unknown>>;
    /** The Google Cloud side (the `gcp` stack): buckets, registry, identities, Vertex. */
    gcp?: pulumi.Output<GcpOutputs>;
    /** One summary of the environment: hosts, Slurm, monitoring URLs and, with gcp, image, buckets, Tensorboard, burst. */
    summary: pulumi.Output<EnvironmentSummary>;
}

/** Compose the whole graph from validated config. */
export function defineStack(cfg: StackConfig): StackOutputs {
    const workstation = new Workstation("ws", {
        config: cfg.workstation,
        sshPrivateKey: cfg.sshPrivateKey,
        aptProxyCredentials: cfg.aptProxyCredentials,
        alertWebhookSecret: cfg.alertWebhookSecret,
    });
    const hosts = pulumi.output(
        Object.fromEntries(
            workstation.hosts.map((h) => [
                h.name,
                { address: h.config.address ?? "localhost", roles: h.config.roles, expectedGpus: h.config.gpus.count },
            ]),
        ),
    );
    const gcp = cfg.gcp ? new GcpEnvironment("gcp", { config: cfg.gcp }) : undefined;
    // The bridge only in the gcp stack; nothing of the workstation waits for it.
    const hybridConfig = hybridOf(cfg);
    const hybrid = gcp && hybridConfig?.enabled ? new Hybrid("hybrid", { config: hybridConfig, workstation, workstationConfig: cfg.workstation, gcp }) : undefined;
    const summary = environmentSummary(
        cfg,
        gcp && hybrid
            ? pulumi.all([gcp.outputs, hybrid.outputs]).apply(([g, h]) => ({
                  buckets: g.buckets,
                  image: h.image ? { uri: h.image.uri, digest: h.image.digest } : undefined,
                  tensorboard: g.tensorboard,
                  trainingServiceAccount: g.serviceAccounts.training,
              }))
            : undefined,
    );
    return gcp ? { hosts, gcp: gcp.outputs, summary } : { hosts, summary };
}
