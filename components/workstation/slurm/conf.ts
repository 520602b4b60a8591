// Pure generators for slurm.conf, gres.conf and cgroup.conf from host facts
// and config (DeepOps keeps these as templates; here they are functions with
// unit tests, because the node lines come from probed facts).
import { HostConfig, PartitionConfig } from "../../../config";
import { SlurmAccountingConfig, SlurmConfig } from "../../../config/workstation";
import { HostFacts } from "../host/facts";
import { PowerSaveInput, powerSaveLines } from "./power-save";

export const HEALTH_CHECK_PROGRAM = "/usr/local/sbin/aihpc-node-health";
/** Drains a node whose job left processes on its GPUs (installed with the health check). */
export const GPU_EPILOG = "/usr/local/sbin/aihpc-gpu-epilog";

/** Where the Slurm steps install what they install (passed to the steps as settings). */
export const PATHS = {
    /** Debian's Slurm reads slurm.conf, gres.conf and cgroup.conf here. */
    confDir: "/etc/slurm",
    /** The health check's settings (node-health.sh reads it). */
    healthConf: "/etc/aihpc/node-health.conf",
    /** Job templates for users. */
    jobs: "/usr/local/share/aihpc/jobs",
} as const;

export interface GpuDevice {
    type: string;
    file: string;
    /** Where it came from: nvidia-smi, or the configured stand-in device. */
    source: "nvidia" | "configured";
}

export interface SlurmNode {
    /** Config host name: NodeName. */
    name: string;
    /** What `hostname -s` prints on the host: NodeHostname, how slurmd finds its line. */
    hostname: string;
    addr?: string;
    cpus: number;
    sockets: number;
    coresPerSocket: number;
    threadsPerCore: number;
    realMemoryMb: number;
    gpus: GpuDevice[];
    /** Slurm shards per GPU (hosts[].gpus.sharing); 0: the GPUs are not shared. */
    shardsPerGpu?: number;
}

/** "NVIDIA H200" -> "h200", "NVIDIA RTX A5500" -> "rtx_a5500". */
export function gresTypeOf(model: string): string {
    const t = model
        .toLowerCase()
        .replace(/^nvidia\s+/, "")
        .replace(/[^a-z0-9]+/g, "_")
        .replace(/^_+|_+$/g, "")
        .slice(0, 32);
    return t || "gpu";
}

/** The GPUs Slurm schedules on a host: nvidia-smi's, else the configured device files. */
export function nodeGpus(host: HostConfig, facts: HostFacts): GpuDevice[] {
    if (facts.gpus.length > 0) {
        return [...facts.gpus]
            .sort((a, b) => a.index - b.index)
            .map((g) => ({ type: host.gpus.gresType ?? gresTypeOf(g.name), file: `/dev/nvidia${g.index}`, source: "nvidia" as const }));
    }
    return (host.gpus.devices ?? []).map((file) => ({ type: host.gpus.gresType ?? "fake", file, source: "configured" as const }));
}

export function shortHostname(h: string): string {
    return h.split(".")[0];
}

export function slurmNode(host: HostConfig, facts: HostFacts, memoryHeadroomMb: number): SlurmNode {
    // Never promise more memory than the host has (slurmd drains a node whose
    // RealMemory exceeds what it finds); keep at most a quarter back.
    const headroom = Math.min(memoryHeadroomMb, Math.floor(facts.memoryMb / 4));
    return {
        name: host.name,
        hostname: shortHostname(facts.hostname),
        addr: host.address,
        cpus: facts.cpus,
        sockets: facts.sockets,
        coresPerSocket: facts.coresPerSocket,
        threadsPerCore: facts.threadsPerCore,
        realMemoryMb: Math.max(1, facts.memoryMb - headroom),
        gpus: nodeGpus(host, facts),
        shardsPerGpu: host.gpus.sharing?.shards ?? 0,
    };
}

/** `gpu:h200:2` (one type per node; mixed types are listed per type). */
export function gresSpec(gpus: GpuDevice[]): string | undefined {
    if (gpus.length === 0) return undefined;
    const byType = new Map<string, number>();
    for (const g of gpus) byType.set(g.type, (byType.get(g.type) ?? 0) + 1);
    return [...byType].map(([t, n]) => `gpu:${t}:${n}`).join(",");
}

export function nodeLine(n: SlurmNode): string {
    const parts = [`NodeName=${n.name}`];
    if (n.hostname !== n.name) parts.push(`NodeHostname=${n.hostname}`);
    if (n.addr) parts.push(`NodeAddr=${n.addr}`);
    parts.push(`CPUs=${n.cpus}`);
    // Topology only when it adds up (a cpuset-limited host may not).
    if (n.sockets * n.coresPerSocket * n.threadsPerCore === n.cpus) {
        parts.push(`Sockets=${n.sockets}`, `CoresPerSocket=${n.coresPerSocket}`, `ThreadsPerCore=${n.threadsPerCore}`);
    }
    parts.push(`RealMemory=${n.realMemoryMb}`);
    const gres = gresSpec(n.gpus);
    const shards = n.gpus.length * (n.shardsPerGpu ?? 0);
    if (gres) parts.push(`Gres=${gres}${shards ? `,shard:${shards}` : ""}`);
    parts.push("State=UNKNOWN");
    return parts.join(" ");
}

export function partitionLine(p: PartitionConfig, computeHosts: string[]): string {
    const nodes = p.hosts ?? computeHosts;
    const parts = [`PartitionName=${p.name}`, `Nodes=${nodes.join(",")}`, `Default=${p.default ? "YES" : "NO"}`, `MaxTime=${p.maxTime}`];
    if (p.defaultTime) parts.push(`DefaultTime=${p.defaultTime}`);
    if (p.maxNodes !== undefined) parts.push(`MaxNodes=${p.maxNodes}`);
    parts.push(`PriorityTier=${p.priorityTier}`, "State=UP");
    return parts.join(" ");
}

export interface SlurmConfInput {
    config: SlurmConfig;
    controller: { hostname: string; addr?: string };
    /** Compute nodes, in config order. */
    nodes: SlurmNode[];
    /** The cloud partition (gcp.cloudNodes), when on. */
    cloud?: PowerSaveInput;
    /** slurmdbd's host (its address or name) when workstation.slurm.accounting is on. */
    accountingHost?: string;
}

/** slurm.conf: the same text on every host (Slurm warns when they differ). */
export function slurmConf(i: SlurmConfInput): string {
    const c = i.config;
    const ctl = i.controller.addr ? `${i.controller.hostname}(${i.controller.addr})` : i.controller.hostname;
    // Jobs without --mem get memory per CPU, not the whole node.
    const shared = i.nodes.some((n) => (n.shardsPerGpu ?? 0) > 0 && n.gpus.length > 0);
    const defMemPerCpu = i.nodes.length ? Math.max(1, Math.min(...i.nodes.map((n) => Math.floor(n.realMemoryMb / n.cpus)))) : undefined;
    const lines = [
        "# Managed by aihpc (Pulumi): edits here are overwritten. Source: workstation.slurm and the host facts.",
        `ClusterName=${c.clusterName}`,
        `SlurmctldHost=${ctl}`,
        `SlurmctldPort=${c.slurmctldPort}`,
        `SlurmdPort=${c.slurmdPort}`,
        "SlurmUser=slurm",
        "AuthType=auth/munge",
        "CryptoType=crypto/munge",
        "MpiDefault=none",
        "StateSaveLocation=/var/lib/slurm/slurmctld",
        "SlurmdSpoolDir=/var/lib/slurm/slurmd",
        "SlurmctldPidFile=/run/slurmctld.pid",
        "SlurmdPidFile=/run/slurmd.pid",
        "SlurmctldLogFile=/var/log/slurm/slurmctld.log",
        "SlurmdLogFile=/var/log/slurm/slurmd.log",
        c.cgroups ? "ProctrackType=proctrack/cgroup" : "ProctrackType=proctrack/linuxproc",
        c.cgroups ? "TaskPlugin=task/cgroup,task/affinity" : "TaskPlugin=task/none",
        c.cgroups ? "JobAcctGatherType=jobacct_gather/cgroup" : "JobAcctGatherType=jobacct_gather/linux",
        ...accountingLines(c, i.accountingHost, shared),
        "JobCompType=jobcomp/none",
        "SchedulerType=sched/backfill",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory",
        ...(defMemPerCpu ? [`DefMemPerCPU=${defMemPerCpu}`] : []),
        shared ? "GresTypes=gpu,shard" : "GresTypes=gpu",
        "ReturnToService=2",
        `HealthCheckProgram=${HEALTH_CHECK_PROGRAM}`,
        `HealthCheckInterval=${c.healthCheckInterval}`,
        "HealthCheckNodeState=ANY",
        `Epilog=${GPU_EPILOG}`,
        "SlurmctldTimeout=120",
        "SlurmdTimeout=300",
        "InactiveLimit=0",
        "MinJobAge=300",
        "KillWait=30",
        "Waittime=0",
        "",
        "# Nodes",
        ...i.nodes.map(nodeLine),
        "",
        "# Partitions",
        ...c.partitions.map((p) => partitionLine(p, i.nodes.map((n) => n.name))),
        ...(i.cloud ? powerSaveLines(i.cloud) : []),
    ];
    return `${lines.join("\n")}\n`;
}

/**
 * gres.conf for one node: its GPU device files (and each GPU's shards,
 * hosts[].gpus.sharing); with `nvml` (Debian's NVML plugin installed on the
 * node) and NVIDIA GPUs, slurmd also detects them through NVML (cores, links)
 * while the File= lines stay.
 */
export function gresConf(node: Pick<SlurmNode, "name" | "gpus" | "shardsPerGpu">, expectedGpus = 0, nvml = false): string {
    const lines = ["# Managed by aihpc (Pulumi): GPUs from nvidia-smi, else workstation.hosts[].gpus.devices."];
    if (nvml && node.gpus.some((g) => /^\/dev\/nvidia[0-9]/.test(g.file))) lines.push("AutoDetect=nvml");
    for (const g of node.gpus) lines.push(`NodeName=${node.name} Name=gpu Type=${g.type} File=${g.file}`);
    // One shard line per GPU file: a shard job is given (and its cgroup lets it open) that GPU only.
    if (node.shardsPerGpu) for (const g of node.gpus) lines.push(`NodeName=${node.name} Name=shard Count=${node.shardsPerGpu} File=${g.file}`);
    if (node.gpus.length === 0 && expectedGpus > 0) {
        lines.push(`# ${node.name} expects ${expectedGpus} GPU(s) but none were detected: install the driver (nvidia component) and re-apply.`);
    }
    return `${lines.join("\n")}\n`;
}

/** cgroup.conf: confine cores, memory and devices (only GPUs a job asked for). */
export function cgroupConf(cgroups: boolean): string {
    const lines = ["# Managed by aihpc (Pulumi)."];
    if (cgroups) {
        lines.push("CgroupAutomount=yes", "ConstrainCores=yes", "ConstrainDevices=yes", "ConstrainRAMSpace=yes");
    } else {
        lines.push("# workstation.slurm.cgroups is off: proctrack/linuxproc, task/none; nothing reads this file.");
    }
    return `${lines.join("\n")}\n`;
}

/** The node health check's settings (HealthCheckProgram reads them), from the node's GPUs. */
export function nodeHealthConf(i: { node: string; gpus: GpuDevice[]; maxGpuTemp: number; minFreePercent?: number }): string {
    return [
        `# Managed by aihpc: read by ${HEALTH_CHECK_PROGRAM}`,
        `NODE_NAME=${i.node}`,
        `EXPECTED_GPUS=${i.gpus.length}`,
        `GPU_SOURCE=${i.gpus.length ? i.gpus[0].source : "none"}`,
        `GPU_FILES="${i.gpus.map((g) => g.file).join(" ")}"`,
        `MIN_FREE_PERCENT=${i.minFreePercent ?? 5}`,
        `MAX_GPU_TEMP=${i.maxGpuTemp}`,
    ].join("\n");
}

// ---- accounting (workstation.slurm.accounting)

/**
 * slurm.conf's accounting and priority lines: slurmdbd storage with GPU TRES,
 * enforced associations/limits/QoS, multifactor priority with the configured
 * fair-share weights. Accounting off: no storage, FIFO-like basic priority.
 */
export function accountingLines(c: SlurmConfig, accountingHost: string | undefined, shards = false): string[] {
    const a = c.accounting;
    if (!a.enabled || accountingHost === undefined) return ["AccountingStorageType=accounting_storage/none"];
    const p = a.priority;
    return [
        "AccountingStorageType=accounting_storage/slurmdbd",
        `AccountingStorageHost=${accountingHost}`,
        `AccountingStoragePort=${a.dbdPort}`,
        `AccountingStorageTRES=gres/gpu${shards ? ",gres/shard" : ""}`,
        // safe: a job starts only if it can run to its time limit within the association's limits.
        "AccountingStorageEnforce=associations,limits,qos,safe",
        "JobAcctGatherFrequency=30",
        "PriorityType=priority/multifactor",
        `PriorityDecayHalfLife=${p.decayHalfLife}`,
        `PriorityMaxAge=${p.maxAge}`,
        `PriorityWeightFairshare=${p.weightFairshare}`,
        `PriorityWeightAge=${p.weightAge}`,
        `PriorityWeightQOS=${p.weightQos}`,
        `PriorityWeightJobSize=${p.weightJobSize}`,
        `PriorityWeightPartition=${p.weightPartition}`,
    ];
}

export const SLURMDBD_CONF = "/etc/slurm/slurmdbd.conf";
export const ACCOUNTING_DB = "slurm_acct_db";

export interface SlurmdbdConfInput {
    /** `hostname -s` of the slurmdbd host (DbdHost must be its own name). */
    hostname: string;
    config: SlurmAccountingConfig;
    /** The MariaDB password of user slurm (a secret: the text travels on stdin and lands 0600). */
    storagePass: string;
}

/** slurmdbd.conf: MariaDB on the same host over its socket, munge authentication. */
export function slurmdbdConf(i: SlurmdbdConfInput): string {
    if (/[\s#]/.test(i.storagePass) || i.storagePass === "") throw new Error("slurmdbd.conf: the storage password must be non-empty, without spaces or '#'");
    const lines = [
        "# Managed by aihpc (Pulumi): edits here are overwritten. Source: workstation.slurm.accounting.",
        "AuthType=auth/munge",
        `DbdHost=${i.hostname}`,
        `DbdPort=${i.config.dbdPort}`,
        "SlurmUser=slurm",
        "PidFile=/run/slurmdbd.pid",
        "LogFile=/var/log/slurm/slurmdbd.log",
        "StorageType=accounting_storage/mysql",
        "StorageHost=localhost",
        `StorageLoc=${ACCOUNTING_DB}`,
        "StorageUser=slurm",
        `StoragePass=${i.storagePass}`,
    ];
    return `${lines.join("\n")}\n`;
}

/**
 * The few slurm.conf lines sacctmgr needs to reach slurmdbd: the accounting
 * steps use it, so they need not wait for the hosts' slurm.conf.
 */
export function sacctmgrConf(i: { clusterName: string; controllerHostname: string; accountingHost: string; dbdPort: number }): string {
    return [
        "# aihpc: sacctmgr's view of slurmdbd, used by the accounting steps only.",
        `ClusterName=${i.clusterName}`,
        `SlurmctldHost=${i.controllerHostname}`,
        "AuthType=auth/munge",
        "AccountingStorageType=accounting_storage/slurmdbd",
        `AccountingStorageHost=${i.accountingHost}`,
        `AccountingStoragePort=${i.dbdPort}`,
        "",
    ].join("\n");
}

export const BACKUP_UNIT = "aihpc-slurmdbd-backup";

/** The dump service: the backup command with its folder and retention count. */
export function backupService(a: SlurmAccountingConfig): string {
    return [
        "# Managed by aihpc (Pulumi): workstation.slurm.accounting.backup.",
        "[Unit]",
        "Description=aihpc: dump the Slurm accounting database",
        "After=mariadb.service",
        "Requires=mariadb.service",
        "",
        "[Service]",
        "Type=oneshot",
        `Environment=BACKUP_DIR=${a.backup.dir} BACKUP_KEEP=${a.backup.keep} DB=${ACCOUNTING_DB}`,
        "ExecStart=/usr/local/sbin/aihpc-slurmdbd-backup",
        "Nice=10",
        "IOSchedulingClass=idle",
        "",
    ].join("\n");
}

export function backupTimer(a: SlurmAccountingConfig): string {
    return [
        "# Managed by aihpc (Pulumi): workstation.slurm.accounting.backup.onCalendar.",
        "[Unit]",
        "Description=aihpc: nightly dump of the Slurm accounting database",
        "",
        "[Timer]",
        `OnCalendar=${a.backup.onCalendar}`,
        // A host that was off at that time dumps when it is back.
        "Persistent=true",
        "RandomizedDelaySec=10min",
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ].join("\n");
}

/** SQL (as root over MariaDB's socket) that creates the database and its user slurm with this password. */
export function dbSetupSql(password: string): string {
    const quoted = password.replace(/\\/g, "\\\\").replace(/'/g, "\\'");
    return [
        `CREATE DATABASE IF NOT EXISTS \`${ACCOUNTING_DB}\`;`,
        "CREATE USER IF NOT EXISTS 'slurm'@'localhost';",
        `ALTER USER 'slurm'@'localhost' IDENTIFIED BY '${quoted}';`,
        `GRANT ALL ON \`${ACCOUNTING_DB}\`.* TO 'slurm'@'localhost';`,
        "",
    ].join("\n");
}

/** MariaDB settings slurmdbd's documentation asks for (large rollups, long lock waits), local only. */
export function mariadbConf(): string {
    return [
        "# Managed by aihpc (Pulumi): MariaDB for slurmdbd (workstation.slurm.accounting).",
        "[mysqld]",
        "bind-address = 127.0.0.1",
        "innodb_buffer_pool_size = 512M", // slurmdbd warns below half of its 1 GiB recommendation
        "innodb_log_file_size = 64M",
        "innodb_lock_wait_timeout = 900",
        "",
    ].join("\n");
}

/**
 * The desired accounting state as the reconcile step compares it, one record a
 * line, fields joined by '|' as `sacctmgr -nP` prints them:
 *   qos|NAME|PRIORITY|MAXTRESPU|MAXJOBSPU|MAXSUBMITPU|MAXWALL
 *   account|NAME|PARENT|FAIRSHARE|DESCRIPTION
 *   user|NAME|ACCOUNT|FAIRSHARE|QOS,QOS (sorted)|DEFAULTQOS
 * Accounts come parents first (the schema requires a parent before its children).
 */
export function accountingState(a: SlurmAccountingConfig): string {
    const lines: string[] = [];
    for (const q of a.qos) {
        lines.push(["qos", q.name, q.priority, q.maxTresPerUser ?? "", q.maxJobsPerUser ?? "", q.maxSubmitJobsPerUser ?? "", q.maxWall ? sacctmgrTime(slurmMinutes(q.maxWall)) : ""].join("|"));
    }
    for (const acc of a.accounts) lines.push(["account", acc.name, acc.parent, acc.fairshare, acc.description ?? acc.name].join("|"));
    for (const u of a.users) {
        lines.push(["user", u.name, u.account, u.fairshare, [...new Set(u.qos)].sort().join(","), u.defaultQos ?? u.qos[0]].join("|"));
    }
    return `${lines.join("\n")}\n`;
}

/** Minutes as `sacctmgr show qos` prints MaxWall: `D-HH:MM:SS`, or `HH:MM:SS` under a day. */
export function sacctmgrTime(minutes: number): string {
    const d = Math.floor(minutes / 1440);
    const hh = String(Math.floor((minutes % 1440) / 60)).padStart(2, "0");
    const mm = String(minutes % 60).padStart(2, "0");
    return `${d ? `${d}-` : ""}${hh}:${mm}:00`;
}

/** A Slurm time ("2-00:00:00", "4:00:00", "90") in minutes (seconds rounded up). */
export function slurmMinutes(t: string): number {
    const m = /^(?:(\d+)-)?(\d+)(?::(\d{2}))?(?::(\d{2}))?$/.exec(t);
    if (!m) throw new Error(`not a Slurm time: ${t}`);
    const [, d, a, b, c] = m;
    const days = Number(d ?? 0);
    // "MM", "MM:SS", "HH:MM:SS"; with days: "D-HH", "D-HH:MM", "D-HH:MM:SS".
    if (d !== undefined) return days * 1440 + Number(a) * 60 + Number(b ?? 0) + Math.ceil(Number(c ?? 0) / 60);
    if (c !== undefined) return Number(a) * 60 + Number(b) + Math.ceil(Number(c) / 60);
    return Number(a) + Math.ceil(Number(b ?? 0) / 60);
}
