// The ML runtime's config rule, which the schema runs (config/schema.ts) so
// that a torch version without a committed lock stops `pulumi up` with one
// config message before any resource exists. Pure: no Pulumi, only the locks
// folder.
import * as fs from "fs";
import * as path from "path";

const LOCKS = path.join(__dirname, "locks");

/** Torch versions that have a committed lock (`locks/torch-<version>-cu<NNN>.txt`). */
export function lockedTorchVersions(): string[] {
    const files = fs.existsSync(LOCKS) ? fs.readdirSync(LOCKS) : [];
    return [...new Set(files.map((f) => /^torch-(\d+\.\d+\.\d+)-cu\d+\.txt$/.exec(f)?.[1]).filter((v): v is string => v !== undefined))].sort();
}

/** Problems as [path under aihpc:workstation.mlRuntime, message]. */
export function mlRuntimeProblems(ws: { mlRuntime: { enabled: boolean; torch: string }; hosts: { gpus: { count: number } }[] }): [(string | number)[], string][] {
    const m = ws.mlRuntime;
    // The runtime goes on GPU hosts only; without one nothing reads a lock.
    if (!m.enabled || !ws.hosts.some((h) => h.gpus.count > 0)) return [];
    const have = lockedTorchVersions();
    if (have.includes(m.torch)) return [];
    return [
        [
            ["torch"],
            `no committed lock for torch ${m.torch} (locked: ${have.join(", ") || "none"}): use ${have.length === 1 ? `"${have[0]}"` : "one of those"}, or produce the lock with \`tools/ml-lock.sh runtime ${m.torch}\` and commit it (or set mlRuntime.enabled: false)`,
        ],
    ];
}
