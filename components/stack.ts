import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "../config";
import { GcpEnvironment, GcpOutputs } from "./gcp";
import { Workstation } from "./workstation";

/** Stack outputs: what `pulumi stack output` and the plan show. */
export interface StackOutputs {
    hosts: pulumi.Output<Record<string, unknown>>;
    /** The Google Cloud side (the `gcp` stack): buckets, registry, identities, Vertex. */
    gcp?: pulumi.Output<GcpOutputs>;
}

/** Compose the whole graph from validated config. */
export function defineStack(cfg: StackConfig): StackOutputs {
    const workstation = new Workstation("ws", { config: cfg.workstation, sshPrivateKey: cfg.sshPrivateKey });
    const hosts = pulumi.output(
        Object.fromEntries(
            workstation.hosts.map((h) => [
                h.name,
                { address: h.config.address ?? "localhost", roles: h.config.roles, expectedGpus: h.config.gpus.count },
            ]),
        ),
    );
    const gcp = cfg.gcp ? new GcpEnvironment("gcp", { config: cfg.gcp }) : undefined;
    return gcp ? { hosts, gcp: gcp.outputs } : { hosts };
}
