// The ML runtime's config rule, which the schema runs (config/schema.ts) so
// that a torch version without a committed lock stops `pulumi up` with one
// config message before any resource exists. Pure: no Pulumi, only the locks
// folder.
import * as fs from "fs";
import * as path from "path";
import type { Problem } from "../../../config/common";

const LOCKS = path.join(__dirname, "locks");

/** Torch versions that have a committed lock (`locks/torch-<version>-cu<NNN>.txt`). */
export function lockedTorchVersions(): string[] {
    const files = fs.existsSync(LOCKS) ? fs.readdirSync(LOCKS) : [];
    return [...new Set(files.map((f) => /^torch-(\d+\.\d+\.\d+)-cu\d+\.txt$/.exec(f)?.[1]).filter((v): v is string => v !== undefined))].sort();
}

/** A committed lock fit to install from: fully hashed, with no index of its own (dependency confusion). */
export function lockProblem(file: string, text: string, torch: string): string | undefined {
    if (!/--hash=sha256:[0-9a-f]{64}/.test(text) || /^(?!#)\S.*--(extra-)?index-url/m.test(text)) {
        return `${path.basename(file)} is not a hashed PyPI lock: regenerate it with tools/ml-lock.sh runtime ${torch}`;
    }
    return undefined;
}

/** Problems as [path under aihpc:workstation, message]. */
export function mlRuntimeProblems(ws: { mlRuntime: { enabled: boolean; torch: string }; hosts: { gpus: { count: number } }[] }): Problem[] {
    const m = ws.mlRuntime;
    // The runtime goes on GPU hosts only; without one nothing reads a lock.
    if (!m.enabled || !ws.hosts.some((h) => h.gpus.count > 0)) return [];
    const have = lockedTorchVersions();
    const file = have.includes(m.torch) ? fs.readdirSync(LOCKS).find((f) => f.startsWith(`torch-${m.torch}-cu`)) : undefined;
    if (file !== undefined) {
        const problem = lockProblem(file, fs.readFileSync(path.join(LOCKS, file), "utf8"), m.torch);
        return problem ? [[["mlRuntime", "torch"], problem]] : [];
    }
    return [
        [
            ["mlRuntime", "torch"],
            `no committed lock for torch ${m.torch} (locked: ${have.join(", ") || "none"}): use ${have.length === 1 ? `"${have[0]}"` : "one of those"}, or produce the lock with \`tools/ml-lock.sh runtime ${m.torch}\` and commit it (or set mlRuntime.enabled: false)`,
        ],
    ];
}
