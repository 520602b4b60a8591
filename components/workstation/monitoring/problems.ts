// The monitoring component's config rules, run by the schema (config/schema.ts):
// one controller to run Prometheus on, no port used twice, and what
// dcgm-exporter needs. The component then trusts its input.
import type { Problem } from "../../../config/common";
import { versions } from "../../../config/versions";
import type { WorkstationConfig } from "../../../config/workstation";

/** Problems as [path under aihpc:workstation, message]. */
export function monitoringProblems(ws: WorkstationConfig): Problem[] {
    const out: Problem[] = [];
    const m = ws.monitoring;
    if (!m.enabled) return out;
    // Prometheus, Alertmanager and Grafana run on the controller; with Slurm
    // on, slurmProblems already reports a missing or second controller.
    const controllers = ws.hosts.filter((h) => h.roles.includes("controller")).length;
    if (!ws.slurm.enabled && controllers !== 1) {
        out.push([["hosts"], `monitoring runs Prometheus on the host with role 'controller': expected exactly one, got ${controllers}`]);
    }
    const ports: [string[], number][] = [
        [["nodeExporterPort"], m.nodeExporterPort],
        [["prometheus", "port"], m.prometheus.port],
        ...(m.alertmanager.enabled ? [[["alertmanager", "port"], m.alertmanager.port] as [string[], number]] : []),
        ...(m.grafana.enabled ? [[["grafana", "port"], m.grafana.port] as [string[], number]] : []),
    ];
    const used = new Map<number, string>();
    if (ws.slurm.enabled) {
        used.set(ws.slurm.slurmctldPort, "slurm.slurmctldPort (on the controller)");
        used.set(ws.slurm.slurmdPort, "slurm.slurmdPort");
    }
    for (const [path, p] of ports) {
        const other = used.get(p);
        if (other !== undefined) out.push([["monitoring", ...path], `port ${p} is already used by ${other.startsWith("slurm.") ? other : `monitoring.${other}`}`]);
        else used.set(p, path.join("."));
    }
    // GPU metrics exist only where the stack installs the driver.
    if (ws.nvidia.enabled && m.gpuExporter === "dcgm") {
        if (m.dcgmExporter.image === undefined) {
            out.push([
                ["monitoring", "dcgmExporter", "image"],
                `required with gpuExporter 'dcgm': the image pinned by digest, ${versions.dcgmExporterImage}@sha256:<digest> (NVIDIA publishes it on NGC, https://catalog.ngc.nvidia.com/orgs/nvidia/teams/k8s/containers/dcgm-exporter; \`docker buildx imagetools inspect ${versions.dcgmExporterImage}\` prints the digest)`,
            ]);
        }
        if (!(ws.containers.enabled && ws.containers.nvidiaToolkit.enabled)) {
            out.push([["monitoring", "gpuExporter"], "'dcgm' runs NVIDIA's dcgm-exporter container: turn workstation.containers (and its nvidiaToolkit) on, or use 'nvidia-smi'"]);
        }
    }
    return out;
}
