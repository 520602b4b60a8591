// Files a step installs, as TypeScript hands them over: the file-set encoding
// (one encoder for every set of files a step syncs) and the apt files that
// several components write (a third-party source, a version pin).

/** A relative name in a file set: plain characters, no `..`, not absolute (it becomes a path under the set's folder on the host). */
export function checkSetName(rel: string, where: string): void {
    if (!/^[A-Za-z0-9._+-][A-Za-z0-9._/+-]*$/.test(rel) || rel.split("/").includes("..") || rel.endsWith("/")) {
        throw new Error(`${where}: bad file name '${rel}' (relative, [A-Za-z0-9._/+-], no '..')`);
    }
}

/**
 * The file-set encoding: `REL=BASE64 ...`, sorted by name. A step syncs it
 * with lib.sh `aihpc_sync_files`; sets of bundled files reach the host in the
 * same encoding (lib.sh `aihpc_inputs` builds it from `AIHPC_SETS`).
 */
export function fileSet(files: Record<string, string | Buffer>, where = "file set"): string {
    return Object.entries(files)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([rel, data]) => {
            checkSetName(rel, where);
            return `${rel}=${Buffer.from(data).toString("base64")}`;
        })
        .join(" ");
}

/** Decode a file set (tests, and what a host would get). */
export function parseFileSet(set: string): Record<string, string> {
    return Object.fromEntries(
        set
            .split(" ")
            .filter(Boolean)
            .map((w) => [w.slice(0, w.indexOf("=")), Buffer.from(w.slice(w.indexOf("=") + 1), "base64").toString("utf8")]),
    );
}

/** The keyring lib.sh `aihpc_apt_repo NAME` installs, which the repository's source must name. */
export const aptKeyring = (name: string) => `/etc/apt/keyrings/aihpc-${name}.gpg`;

/** A third-party repository's sources.list text: `deb [signed-by=<its keyring>] LINE` for each line. */
export function aptSource(name: string, setting: string, lines: string[]): string {
    return [`# Managed by aihpc (${setting})`, ...lines.map((l) => `deb [signed-by=${aptKeyring(name)}] ${l}`)].join("\n");
}

export interface AptPin {
    /** Package names or apt globs, one stanza. */
    packages: string[];
    /** apt's `Pin: version` glob. */
    version: string;
}

/**
 * An apt preference holding packages at a version (priority 1001: above every
 * source, and downgrades), under the comment line `# HEADER`; stanzas apart by
 * a blank line.
 */
export function aptPreference(header: string, pins: AptPin[], explanation?: string): string {
    const stanzas = pins.map((p) => [...(explanation ? [`Explanation: ${explanation}`] : []), `Package: ${p.packages.join(" ")}`, `Pin: version ${p.version}`, "Pin-Priority: 1001"].join("\n"));
    return `# ${header}\n${stanzas.join("\n\n")}`;
}
