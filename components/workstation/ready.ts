import * as pulumi from "@pulumi/pulumi";

/**
 * Per host name, the step after which one thing is in place on that host
 * (apt usable, GPU verified, Slurm controller configured...). Components export
 * these under purpose names and take only those they need, so a step waits for
 * what it uses and nothing else: a failed PyTorch install holds back nothing
 * but what runs PyTorch.
 */
export type Ready = Readonly<Record<string, pulumi.Resource>>;

/** The steps a host's steps wait for: each map's entry for that host, where it has one. */
export function readyOn(host: string, ...maps: (Ready | undefined)[]): pulumi.Resource[] {
    return maps.map((m) => m?.[host]).filter((r): r is pulumi.Resource => r !== undefined);
}
