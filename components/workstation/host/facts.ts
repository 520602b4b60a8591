/** What the read-only probe (scripts/facts.sh) found on a host. */
export interface HostFacts {
    os: { id: string; versionId: string; codename: string };
    kernel: string;
    arch: string;
    hostname: string;
    /** The user the probe ran as: the connection's (`hosts[].user`), or the one running Pulumi. */
    user: string;
    /** Whether that user can run the steps as root: `root`, `nopasswd` (sudo -n works), `refused` (sudo wants a password or says no), `absent` (no sudo). */
    sudo: "root" | "nopasswd" | "refused" | "absent" | "unknown";
    /** What `sudo -n true` said when refused. */
    sudoError?: string;
    cpus: number;
    sockets: number;
    coresPerSocket: number;
    threadsPerCore: number;
    memoryMb: number;
    cgroup: "v1" | "v2";
    /** `systemctl is-system-running`, or `none` without systemd as PID 1. */
    systemd: string;
    secureBoot: "enabled" | "disabled" | "legacy-bios" | "unknown";
    /** NVIDIA devices on the PCI bus (lspci), whether or not a driver is loaded. */
    pciGpus: string[];
    /** GPUs the driver sees (nvidia-smi); empty without a working driver. */
    gpus: { index: number; name: string; uuid: string; memoryMiB: number; driverVersion: string; busId: string }[];
    /** Users and groups with ids 1000-60000, name -> id (absent from a probe that predates them). */
    accounts?: { users: Record<string, number>; groups: Record<string, number> };
}

/** The ids the config fixes: research users with a uid, the research group with a gid. */
export interface AccountIds {
    users: { name: string; uid: number }[];
    group?: { name: string; gid: number };
}

export class FactsError extends Error {}

function int(v: string | undefined, key: string): number {
    const n = Number.parseInt(v ?? "", 10);
    if (!Number.isFinite(n)) throw new FactsError(`facts probe: '${key}' is missing or not a number (${JSON.stringify(v)})`);
    return n;
}

/** Parse the probe's key=value lines; repeated keys (GPUs) become lists. */
export function parseFacts(stdout: string): HostFacts {
    const one = new Map<string, string>();
    const many = new Map<string, string[]>();
    for (const line of stdout.split("\n")) {
        const eq = line.indexOf("=");
        if (eq <= 0) continue;
        const k = line.slice(0, eq).trim();
        const v = line.slice(eq + 1).trim();
        one.set(k, v);
        many.set(k, [...(many.get(k) ?? []), v]);
    }
    const cpus = int(one.get("cpus"), "cpus");
    const sockets = one.has("sockets") ? int(one.get("sockets"), "sockets") : 1;
    const threadsPerCore = one.has("threads_per_core") ? int(one.get("threads_per_core"), "threads_per_core") : 1;
    const coresPerSocket = one.has("cores_per_socket")
        ? int(one.get("cores_per_socket"), "cores_per_socket")
        : Math.max(1, Math.floor(cpus / sockets / threadsPerCore));
    const sb = one.get("secure_boot");
    const sudo = one.get("sudo");
    return {
        os: { id: one.get("os_id") ?? "unknown", versionId: one.get("os_version_id") ?? "unknown", codename: one.get("os_codename") ?? "unknown" },
        kernel: one.get("kernel") ?? "unknown",
        arch: one.get("arch") ?? "unknown",
        hostname: one.get("hostname") ?? "unknown",
        user: one.get("user") ?? "unknown",
        sudo: sudo === "root" || sudo === "nopasswd" || sudo === "refused" || sudo === "absent" ? sudo : "unknown",
        ...(one.get("sudo_error") ? { sudoError: one.get("sudo_error") } : {}),
        cpus,
        sockets,
        coresPerSocket,
        threadsPerCore,
        memoryMb: int(one.get("memory_mb"), "memory_mb"),
        cgroup: one.get("cgroup") === "v2" ? "v2" : "v1",
        systemd: one.get("systemd") ?? "none",
        secureBoot: sb === "enabled" || sb === "disabled" || sb === "legacy-bios" ? sb : "unknown",
        pciGpus: many.get("pci_gpu") ?? [],
        gpus: (many.get("nvidia_gpu") ?? []).map((l) => {
            const [index, name, uuid, mem, driver, bus] = l.split(",").map((s) => s.trim());
            return { index: int(index, "nvidia_gpu.index"), name, uuid, memoryMiB: int(mem, "nvidia_gpu.memory"), driverVersion: driver, busId: bus };
        }),
        accounts: { users: idMap(many.get("account_user")), groups: idMap(many.get("account_group")) },
    };
}

function idMap(lines: string[] = []): Record<string, number> {
    return Object.fromEntries(lines.map((l) => [l.slice(0, l.lastIndexOf(":")), Number(l.slice(l.lastIndexOf(":") + 1))]));
}

/** A configured id taken by another name, or a configured name with another id: the users step would fail half-way. */
function idProblems(host: string, f: HostFacts, ids: AccountIds): string[] {
    const out: string[] = [];
    const { users, groups } = f.accounts ?? { users: {}, groups: {} };
    const check = (kind: "user" | "group", have: Record<string, number>, name: string, id: number, setting: string) => {
        if (have[name] !== undefined && have[name] !== id) out.push(`${host}: ${kind} ${name} exists with ${kind === "user" ? "uid" : "gid"} ${have[name]}, ${setting} says ${id}: give it ${id} on this host (\`${kind}mod -${kind === "user" ? "u" : "g"} ${id} ${name}\`) or change ${setting}`);
        const holder = Object.entries(have).find(([n, i]) => i === id && n !== name);
        if (holder) out.push(`${host}: ${kind === "user" ? "uid" : "gid"} ${id} (${setting}) belongs to ${kind} ${holder[0]} here: pick a free id`);
    };
    ids.users.forEach((u) => check("user", users, u.name, u.uid, `workstation.base.users (${u.name}).uid`));
    if (ids.group) check("group", groups, ids.group.name, ids.group.gid, "workstation.base.researchGroupGid");
    return out;
}

/** Problems that make a host unfit for the stack, as messages that say what to do. */
export function checkFacts(host: string, f: HostFacts, transport: "ssh" | "local" = "ssh", ids: AccountIds = { users: [] }): string[] {
    const out: string[] = idProblems(host, f, ids);
    if (f.os.id !== "debian" || f.os.versionId !== "12") {
        out.push(`${host}: expected Debian 12 (bookworm), found ${f.os.id} ${f.os.versionId}; aihpc supports Debian 12 only`);
    }
    if (f.sudo === "refused" || f.sudo === "absent") {
        const why = f.sudo === "absent" ? "sudo is not installed" : `\`sudo -n true\` failed${f.sudoError ? ` (${f.sudoError})` : ""}`;
        out.push(
            `${host}: user '${f.user}' cannot run sudo without a password (${why}): every step runs as root through \`sudo -n\`. ` +
                `Add \`${f.user} ALL=(ALL) NOPASSWD: ALL\` in /etc/sudoers.d/aihpc-${f.user} (\`visudo -f\`; install sudo first if missing), ${transport === "local" ? "or run Pulumi as root" : "or connect as root (hosts[].user)"}`,
        );
    }
    if (f.systemd === "none" || f.systemd === "offline") {
        out.push(`${host}: systemd is not running as PID 1 (found '${f.systemd}'); aihpc manages services with systemd`);
    }
    return out;
}
