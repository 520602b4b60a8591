// The shared storage component's config rules, run by the schema
// (config/schema.ts): a server among the hosts, fixed ids for everyone whose
// files cross hosts, and shares that do not collide. The component then
// trusts its input.
import type { Problem } from "../../../config/common";
import type { WorkstationConfig } from "../../../config/workstation";

/** Problems as [path under aihpc:workstation, message]. */
export function storageProblems(ws: WorkstationConfig): Problem[] {
    const nfs = ws.storage.nfs;
    if (!nfs.enabled) return [];
    const out: Problem[] = [];
    const names = ws.hosts.map((h) => h.name);
    if (nfs.server === undefined) {
        out.push([["storage", "nfs", "server"], `required with storage.nfs.enabled: the name of the host that exports the shares, one of ${names.join(", ")}`]);
    } else if (!names.includes(nfs.server)) {
        out.push([["storage", "nfs", "server"], `'${nfs.server}' is not a host: expected one of ${names.join(", ")}`]);
    }
    if (ws.hosts.length < 2) out.push([["storage", "nfs", "enabled"], "shared storage needs at least two hosts (one exports, the others mount): add hosts or turn storage.nfs off"]);
    // NFS keeps numeric ids: a user or group with another id on another host owns nothing there.
    if (ws.base.researchGroupGid === undefined) {
        out.push([["base", "researchGroupGid"], `required with storage.nfs: the gid of group '${ws.base.researchGroup}', the same on every host, e.g. 2000`]);
    }
    ws.base.users.forEach((u, i) => {
        if (u.uid === undefined) out.push([["base", "users", i, "uid"], `required with storage.nfs: user ${u.name}'s uid, the same on every host, e.g. ${2001 + i}`]);
    });
    const seen = new Map<number, string>();
    ws.base.users.forEach((u, i) => {
        if (u.uid === undefined) return;
        const other = seen.get(u.uid);
        if (other !== undefined) out.push([["base", "users", i, "uid"], `uid ${u.uid} is also ${other}'s: expected one uid per user`]);
        seen.set(u.uid, u.name);
    });
    const unique = (key: "name" | "path" | "mountPoint") => {
        const at = new Map<string, number>();
        nfs.exports.forEach((e, i) => {
            const prev = at.get(e[key]);
            if (prev !== undefined) out.push([["storage", "nfs", "exports", i, key], `'${e[key]}' is also exports[${prev}].${key}: expected one per share`]);
            at.set(e[key], i);
        });
    };
    unique("name");
    unique("path");
    unique("mountPoint");
    nfs.exports.forEach((e, i) => {
        // systemd names a mount unit after its path, escaping '-' as \x2d: keep unit names plain.
        if (/[^A-Za-z0-9_/]/.test(e.mountPoint)) out.push([["storage", "nfs", "exports", i, "mountPoint"], `'${e.mountPoint}' holds '-' or '.': expected letters, digits, '_' and '/' only (systemd names the mount unit after the path)`]);
        nfs.exports.forEach((f, j) => {
            if (i !== j && e.mountPoint.startsWith(`${f.mountPoint}/`)) out.push([["storage", "nfs", "exports", i, "mountPoint"], `'${e.mountPoint}' is inside exports[${j}]'s mount point '${f.mountPoint}': expected shares side by side`]);
        });
    });
    return out;
}
