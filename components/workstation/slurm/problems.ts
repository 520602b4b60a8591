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
    ws.hosts.forEach((h, i) => {
        if (!h.gpus.sharing) return;
        const path = ["hosts", i, "gpus", "sharing"];
        if (h.gpus.count === 0) out.push([path, `host '${h.name}' has gpus.count 0: there is no GPU to share`]);
        else if (!h.roles.includes("compute")) out.push([path, `host '${h.name}' has no 'compute' role, so Slurm never schedules its GPUs`]);
    });
    out.push(...accountingProblems(ws, known));
    return out;
}

/** workstation.slurm.accounting: the host, and accounts, users and QoS that refer to each other. */
function accountingProblems(ws: WorkstationConfig, known: Set<string>): Problem[] {
    const a = ws.slurm.accounting;
    const out: Problem[] = [];
    if (!a.enabled) return out;
    const at = (...p: (string | number)[]) => ["slurm", "accounting", ...p];
    if (a.host !== undefined && !known.has(a.host)) out.push([at("host"), `unknown host '${a.host}': expected one of ${[...known].join(", ")}`]);
    if (a.dbdPort === ws.slurm.slurmctldPort || a.dbdPort === ws.slurm.slurmdPort) {
        out.push([at("dbdPort"), `dbdPort ${a.dbdPort} is also a Slurm daemon's port (slurmctldPort ${ws.slurm.slurmctldPort}, slurmdPort ${ws.slurm.slurmdPort})`]);
    }
    const qos = new Set(["normal"]);
    a.qos.forEach((q, i) => {
        if (qos.has(q.name)) out.push([at("qos", i, "name"), q.name === "normal" ? "QoS 'normal' is Slurm's own and always exists: give another name" : `QoS '${q.name}' is defined twice`]);
        qos.add(q.name);
    });
    const accounts = new Set(["root"]);
    a.accounts.forEach((acc, i) => {
        if (accounts.has(acc.name)) out.push([at("accounts", i, "name"), acc.name === "root" ? "account 'root' is Slurm's own: give another name" : `account '${acc.name}' is defined twice`]);
        // Parents first: the reconcile step adds accounts in this order.
        if (!accounts.has(acc.parent)) out.push([at("accounts", i, "parent"), `parent '${acc.parent}' is not 'root' or an account listed before '${acc.name}'`]);
        accounts.add(acc.name);
    });
    const users = new Set<string>();
    a.users.forEach((u, i) => {
        if (u.name === "root") out.push([at("users", i, "name"), "user root is Slurm's own (account root): leave it out"]);
        if (users.has(u.name)) out.push([at("users", i, "name"), `user '${u.name}' is listed twice: one association (account) per user`]);
        users.add(u.name);
        if (!accounts.has(u.account)) out.push([at("users", i, "account"), `unknown account '${u.account}': expected one of ${[...accounts].join(", ")}`]);
        u.qos.forEach((q, j) => {
            if (!qos.has(q)) out.push([at("users", i, "qos", j), `unknown QoS '${q}': expected one of ${[...qos].join(", ")}`]);
        });
        if (u.defaultQos !== undefined && !u.qos.includes(u.defaultQos)) out.push([at("users", i, "defaultQos"), `'${u.defaultQos}' is not in this user's qos (${u.qos.join(", ")})`]);
    });
    // A limit on a TRES that slurmdbd does not track would fail at apply time.
    const shards = ws.hosts.some((h) => h.gpus.sharing && h.gpus.count > 0);
    a.qos.forEach((q, i) => {
        for (const part of (q.maxTresPerUser ?? "").split(",").filter(Boolean)) {
            const tres = part.split("=")[0];
            const ok = ["cpu", "mem", "node", "billing", "energy", "gres/gpu"].includes(tres) || (tres === "gres/shard" && shards);
            if (!ok) out.push([at("qos", i, "maxTresPerUser"), `'${tres}' is not tracked: expected cpu, mem, node, billing, gres/gpu${shards ? ", gres/shard" : " (gres/shard needs a host with gpus.sharing)"}`]);
        }
    });
    return out;
}
