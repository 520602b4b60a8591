// Slurm's config rules, which the schema runs (config/schema.ts) so that a bad
// cluster layout stops `pulumi up` with one message before anything exists.
// The component then trusts its input: one controller, compute hosts, known
// partition hosts.
import type { Problem } from "../../../config/common";
import type { WorkstationConfig } from "../../../config/workstation";

/** Problems as [path under aihpc:workstation, message]. */
export function slurmProblems(ws: WorkstationConfig): Problem[] {
    const out: Problem[] = [];
    if (!ws.slurm.enabled) return out;
    const controllers = ws.hosts.filter((h) => h.roles.includes("controller"));
    if (controllers.length !== 1) {
        out.push([["hosts"], `Slurm needs exactly one host with role 'controller', got ${controllers.length}${controllers.length ? ` (${controllers.map((h) => h.name).join(", ")})` : ""}`]);
    }
    const compute = new Set(ws.hosts.filter((h) => h.roles.includes("compute")).map((h) => h.name));
    if (compute.size === 0) out.push([["hosts"], "Slurm needs at least one host with role 'compute'"]);
    const known = new Set(ws.hosts.map((h) => h.name));
    const names = new Map<string, number>();
    let defaults = 0;
    ws.slurm.partitions.forEach((p, i) => {
        const path = ["slurm", "partitions", i];
        if (names.has(p.name)) out.push([[...path, "name"], `partition '${p.name}' is defined twice (also partitions[${names.get(p.name)}])`]);
        names.set(p.name, i);
        if (p.default) defaults++;
        (p.hosts ?? []).forEach((h, j) => {
            if (!known.has(h)) out.push([[...path, "hosts", j], `unknown host '${h}': expected one of ${[...known].join(", ")}`]);
            else if (!compute.has(h)) out.push([[...path, "hosts", j], `host '${h}' has no 'compute' role, so it runs no jobs`]);
        });
    });
    if (defaults > 1) out.push([["slurm", "partitions"], `at most one partition may be the default, got ${defaults}`]);
    if (ws.slurm.slurmctldPort === ws.slurm.slurmdPort) {
        out.push([["slurm", "slurmdPort"], `slurmdPort ${ws.slurm.slurmdPort} is also the slurmctldPort; a controller that computes needs both`]);
    }
    ws.hosts.forEach((h, i) => {
        const devices = h.gpus.devices;
        if (devices === undefined) return;
        const path = ["hosts", i, "gpus", "devices"];
        if (new Set(devices).size !== devices.length) out.push([path, "a device file is listed twice"]);
        if (devices.length !== h.gpus.count) out.push([path, `lists ${devices.length} device file(s) but gpus.count is ${h.gpus.count}: give one file per expected GPU`]);
        if (!h.roles.includes("compute")) out.push([path, `host '${h.name}' has no 'compute' role, so Slurm never schedules its GPUs`]);
    });
    return out;
}
