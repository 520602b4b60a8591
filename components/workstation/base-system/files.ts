// Every file the base-system steps install, rendered here (pure functions, so
// they show in the plan and are unit-tested); the scripts only compare,
// install and apply them. Paths are defined once, here, and handed to the
// steps as settings.
import { BaseConfig } from "../../../config/workstation";

export const PATHS = {
    aptProxy: "/etc/apt/apt.conf.d/80aihpc-proxy",
    aptProxyAuth: "/etc/apt/auth.conf.d/80aihpc-proxy.conf",
    debianSources: "/etc/apt/sources.list.d/debian.sources",
    sourcesList: "/etc/apt/sources.list",
    timezone: "/etc/timezone",
    chronySources: "/etc/chrony/sources.d/aihpc.sources",
    sysctl: "/etc/sysctl.d/90-aihpc.conf",
    limits: "/etc/security/limits.d/90-aihpc.conf",
    systemdLimits: "/etc/systemd/system.conf.d/90-aihpc.conf",
    governorUnit: "/etc/systemd/system/aihpc-cpu-governor.service",
} as const;

/** The kernel's default ceiling for open files; raised when `nofile` asks for more. */
export const DEFAULT_NR_OPEN = 1048576;

/** A URL that apt.conf or a deb822 field can hold as is: http(s), none of the characters that end a quoted value, a field or a line. */
function plainUrl(setting: string, url: string): string {
    if (!/^https?:\/\//.test(url) || /[^A-Za-z0-9._~:/@%+=,[\]-]/.test(url)) {
        throw new Error(`${setting}: expected an http:// or https:// URL without spaces, quotes or other characters no URL needs, got '${url}'`);
    }
    return url;
}

/** apt.conf.d/80aihpc-proxy (workstation.aptProxy). */
export function aptProxyConf(proxy: string): string {
    const url = plainUrl("workstation.aptProxy", proxy);
    return ["// Managed by aihpc (workstation.aptProxy).", `Acquire::http::Proxy "${url}";`, `Acquire::https::Proxy "${url}";`].join("\n");
}

/** The `machine` apt's auth.conf matches a proxy by: scheme, host and port as the URL gives them (apt_auth.conf(5)). */
export function proxyMachine(url: string): string {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
}

/** auth.conf.d/80aihpc-proxy.conf: aihpc:aptProxyCredentials (`user:password`) for the proxy. A secret: it travels on stdin only. */
export function aptProxyAuth(proxy: string, credentials: string): string {
    const i = credentials.indexOf(":");
    if (i <= 0 || i === credentials.length - 1 || /\s/.test(credentials)) throw new Error("aihpc:aptProxyCredentials must be user:password without white space");
    return [
        "# Managed by aihpc (aihpc:aptProxyCredentials for workstation.aptProxy).",
        `machine ${proxyMachine(proxy)}`,
        `login ${credentials.slice(0, i)}`,
        `password ${credentials.slice(i + 1)}`,
    ].join("\n");
}

/** Debian's sources in deb822 form, with contrib, non-free and non-free-firmware (NVIDIA's driver and the nvml Slurm plugin live there). */
export function debianSources(mirror: string, securityMirror: string): string {
    const stanza = (uri: string, suites: string) =>
        ["Types: deb", `URIs: ${uri}`, `Suites: ${suites}`, "Components: main contrib non-free non-free-firmware", "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"].join("\n");
    return [
        "# Managed by aihpc (workstation.base.aptMirror).",
        stanza(plainUrl("workstation.base.aptMirror", mirror), "bookworm bookworm-updates"),
        "",
        stanza(plainUrl("workstation.base.aptSecurityMirror", securityMirror), "bookworm-security"),
    ].join("\n");
}

/** What replaces a sources.list that has deb lines (the same suites in two files make apt warn on every run). */
export const SOURCES_LIST_STUB = `# Managed by aihpc: Debian's sources are in ${PATHS.debianSources}`;

/** chrony's extra servers (workstation.base.ntpServers), or undefined when none are set (the file then goes). */
export function chronySources(servers: string[]): string | undefined {
    if (servers.length === 0) return undefined;
    for (const s of servers) {
        if (!/^[A-Za-z0-9.-]+$/.test(s) || s.startsWith("-")) throw new Error(`workstation.base.ntpServers: '${s}' is not a host name or IPv4 address`);
    }
    return ["# Managed by aihpc (workstation.base.ntpServers).", ...servers.map((s) => `server ${s} iburst`)].join("\n");
}

/** The three tuning files: kernel settings, login limits, service limits (workstation.base swappiness, nofile, memlock). */
export function tuningFiles(c: Pick<BaseConfig, "swappiness" | "nofile" | "memlock">): { sysctl: string; limits: string; systemd: string } {
    // fs.nr_open caps every nofile limit: raised to the limit when it asks for more.
    const nrOpen = Math.max(DEFAULT_NR_OPEN, c.nofile);
    // memlock in KiB for limits.conf; systemd wants bytes, or infinity.
    const ml = c.memlock === "unlimited" ? "unlimited" : String(c.memlock);
    const sd = c.memlock === "unlimited" ? "infinity" : String(c.memlock * 1024);
    return {
        sysctl: ["# Managed by aihpc (workstation.base)", `vm.swappiness = ${c.swappiness}`, `fs.nr_open = ${nrOpen}`, "fs.inotify.max_user_watches = 524288", "vm.max_map_count = 262144"].join("\n"),
        limits: [
            "# Managed by aihpc (workstation.base)",
            `* soft memlock ${ml}`,
            `* hard memlock ${ml}`,
            `* soft nofile ${c.nofile}`,
            `* hard nofile ${c.nofile}`,
            `root soft nofile ${c.nofile}`,
            `root hard nofile ${c.nofile}`,
        ].join("\n"),
        systemd: ["# Managed by aihpc (workstation.base): limits for services", "[Manager]", `DefaultLimitNOFILE=${c.nofile}`, `DefaultLimitMEMLOCK=${sd}`].join("\n"),
    };
}

/** The oneshot unit that sets the CPU governor at boot, or undefined for `unchanged` (the unit then goes). */
export function governorUnit(governor: BaseConfig["cpuGovernor"]): string | undefined {
    if (governor === "unchanged") return undefined;
    return [
        "# Managed by aihpc (workstation.base.cpuGovernor)",
        "[Unit]",
        `Description=aihpc: CPU frequency governor ${governor}`,
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `ExecStart=/bin/sh -c 'for f in /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; do echo ${governor} > $f; done'`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ].join("\n");
}
