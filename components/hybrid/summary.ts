// One summary of the environment, the `summary` stack output: what a new user
// needs after `pulumi up` (and what the offline plan shows): hosts, Slurm
// partitions, monitoring URLs and, in the gcp stack, the image, buckets,
// Tensorboard and the burst command.
import * as pulumi from "@pulumi/pulumi";
import { hybridOf, StackConfig } from "../../config";
import { TRAIN_TEMPLATE } from "./burst";

/** Where the Slurm component installs its job templates (components/workstation/slurm/scripts/jobs.sh). */
export const JOB_DIR = "/usr/local/share/aihpc/jobs";

export interface EnvironmentSummary {
    hosts: Record<string, { address: string; roles: string[]; gpus: number }>;
    slurm?: { cluster: string; controller: string; partitions: { name: string; hosts: string[]; default: boolean; maxTime: string }[]; jobTemplates: string };
    monitoring?: { prometheus: string; grafana?: string; alertmanager?: string };
    cloud?: {
        project: string;
        region: string;
        buckets: Record<string, string>;
        image?: { uri: string; digest: string };
        tensorboard?: string;
        experiment: string;
        data: { mode: string; datasets: string; checkpoints: string; sync: string };
        burst: { local: string; vertex: string; dryRun: string; machineType: string; accelerator: string; serviceAccount?: string };
    };
}

/** Cloud values known only after the cloud side exists. */
export interface CloudValues {
    buckets: Record<string, string>;
    image?: { uri: string; digest: string };
    tensorboard?: string;
    trainingServiceAccount?: string;
}

/** The summary from validated config and the cloud side's values (pure: tests call it directly). */
export function summarize(cfg: StackConfig, cloud?: CloudValues): EnvironmentSummary {
    const ws = cfg.workstation;
    const addr = (h: (typeof ws.hosts)[number]) => (ws.transport === "local" ? "localhost" : (h.address ?? h.name));
    const out: EnvironmentSummary = {
        hosts: Object.fromEntries(ws.hosts.map((h) => [h.name, { address: addr(h), roles: [...h.roles], gpus: h.gpus.count }])),
    };
    const controller = ws.hosts.find((h) => h.roles.includes("controller")) ?? ws.hosts[0];
    if (ws.slurm.enabled) {
        const compute = ws.hosts.filter((h) => h.roles.includes("compute")).map((h) => h.name);
        out.slurm = {
            cluster: ws.slurm.clusterName,
            controller: controller.name,
            partitions: ws.slurm.partitions.map((p) => ({ name: p.name, hosts: p.hosts ?? compute, default: p.default, maxTime: p.maxTime })),
            jobTemplates: JOB_DIR,
        };
    }
    const m = ws.monitoring;
    if (m.enabled) {
        const base = `http://${addr(controller)}`;
        out.monitoring = {
            prometheus: `${base}:${m.prometheus.port}`,
            ...(m.grafana.enabled ? { grafana: `${base}:${m.grafana.port}` } : {}),
            ...(m.alertmanager.enabled ? { alertmanager: `${base}:${m.alertmanager.port}` } : {}),
        };
    }
    const g = cfg.gcp;
    const h = hybridOf(cfg);
    if (g && h?.enabled && cloud) {
        const b = h.burst;
        const d = h.data;
        out.cloud = {
            project: g.project,
            region: g.region,
            buckets: cloud.buckets,
            ...(cloud.image ? { image: cloud.image } : {}),
            ...(cloud.tensorboard ? { tensorboard: cloud.tensorboard } : {}),
            experiment: b.experiment,
            data: {
                mode: d.mode,
                datasets: d.mode === "off" ? "not synced" : `${cloud.buckets.datasets} -> ${d.datasetsPath} (${d.mode === "gcsfuse" ? "mounted" : `pulled every ${d.interval}`})`,
                checkpoints: d.mode === "off" ? "not synced" : `${d.checkpointsPath} -> ${cloud.buckets.checkpoints}/workstation/<host> (every ${d.interval})`,
                sync: "aihpc-data-sync --dry-run",
            },
            burst: {
                local: `sbatch ${TRAIN_TEMPLATE} --steps 1000`,
                vertex: "aihpc-burst -- --steps 1000",
                dryRun: "aihpc-burst --dry-run -- --steps 1000",
                machineType: b.machineType,
                accelerator: `${b.accelerator.type} x${b.accelerator.count}${b.spot ? " (spot)" : ""}`,
                ...(cloud.trainingServiceAccount ? { serviceAccount: cloud.trainingServiceAccount } : {}),
            },
        };
    }
    return out;
}

/** The `summary` stack output. */
export function environmentSummary(cfg: StackConfig, cloud?: pulumi.Input<CloudValues>): pulumi.Output<EnvironmentSummary> {
    if (!cloud) return pulumi.output(summarize(cfg));
    return pulumi.output(cloud).apply((v) => summarize(cfg, v as CloudValues));
}
