// What the shared storage component writes, rendered here: the server's
// exports file and each host's systemd mount and automount units.
import type { NfsConfig, NfsExportConfig } from "../../../config/workstation";

export const PATHS = {
    exports: "/etc/exports.d/aihpc.exports",
    units: "/etc/systemd/system",
} as const;

const HEADER = "# Managed by aihpc (workstation.storage.nfs): changes here are overwritten.";

/** systemd's name for a mount point's unit (`systemd-escape --path`; mount points hold only [A-Za-z0-9_/], problems.ts). */
export function unitName(mountPoint: string, suffix: "mount" | "automount"): string {
    return `${mountPoint.replace(/^\/+|\/+$/g, "").split("/").join("-")}.${suffix}`;
}

/** /etc/exports.d/aihpc.exports: each share to each client network. */
export function exportsFile(nfs: NfsConfig, clients: string[]): string {
    const lines = nfs.exports.map((e) => `${e.path} ${clients.map((c) => `${c}(${e.options})`).join(" ")}`);
    return [HEADER, ...lines].join("\n");
}

/** The mount unit: NFS from the server on a client, a bind of the folder itself on the server. */
export function mountUnit(e: NfsExportConfig, server: string | undefined): string {
    const nfs = server !== undefined;
    return [
        HEADER,
        "[Unit]",
        `Description=aihpc shared storage '${e.name}'`,
        ...(nfs ? ["Wants=network-online.target", "After=network-online.target"] : []),
        "",
        "[Mount]",
        `What=${nfs ? `${server}:${e.path}` : e.path}`,
        `Where=${e.mountPoint}`,
        `Type=${nfs ? "nfs" : "none"}`,
        `Options=${nfs ? e.mountOptions : "bind"}`,
        // Never hold up boot or shutdown for a server that is away.
        ...(nfs ? ["TimeoutSec=30"] : []),
    ].join("\n");
}

/** The automount unit: mounted on first use, so boot never waits for the server. */
export function automountUnit(e: NfsExportConfig, idleTimeout: number): string {
    return [HEADER, "[Unit]", `Description=aihpc shared storage '${e.name}' on first use`, "", "[Automount]", `Where=${e.mountPoint}`, `TimeoutIdleSec=${idleTimeout}`, "", "[Install]", "WantedBy=remote-fs.target"].join("\n");
}

/** Unit name -> text for one host (`server` unset: the server's own bind mounts, where a share's mount point is not its folder). */
export function hostUnits(nfs: NfsConfig, server: string | undefined): Record<string, string> {
    const units: Record<string, string> = {};
    for (const e of nfs.exports) {
        if (server === undefined && e.path === e.mountPoint) continue;
        units[unitName(e.mountPoint, "mount")] = mountUnit(e, server);
        units[unitName(e.mountPoint, "automount")] = automountUnit(e, nfs.idleTimeout);
    }
    return units;
}
