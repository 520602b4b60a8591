// `npm run versions [-- --stack NAME] [--recorded DIR] [--only debian,apt,npm,pypi] [--json]`
// The report of tools/versions/report.ts. Exit 0: every default installs and
// holds back no security fix; 1: some default does not (the table says which);
// 2: bad arguments. Read-only; registries that do not answer are reported as
// unreachable, never as a failure (CI runs it as a report, not a gate).
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../../config/load";
import { debianPackages, versions } from "../../config/versions";
import { BASE_PACKAGES } from "../../components/workstation/base-system";
import { cudaDash, DEBIAN_DRIVER_PACKAGES, driverPin } from "../../components/workstation/nvidia";
import { dockerVersionGlob } from "../../components/workstation/containers/files";
import { readStackFile } from "../plan/stackfile";
import { AptItem, checkApt, checkNpm, checkPypi, debianIndexes, failing, goModules, lockItems, npmItems, renderTable, Row } from "./report";
import { liveSource, recordedSource, Source } from "./sources";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const KINDS = ["debian", "apt", "npm", "pypi"] as const;
type Kind = (typeof KINDS)[number];

export interface VersionsArgs {
    recorded?: string;
    stack?: string;
    dir: string;
    npmRoot: string;
    locks: string;
    only: Set<Kind>;
    json: boolean;
    debianMirror: string;
    securityMirror: string;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): VersionsArgs {
    const a: VersionsArgs = {
        dir: REPO_ROOT,
        npmRoot: REPO_ROOT,
        locks: path.join(REPO_ROOT, "components", "workstation", "ml-runtime", "locks"),
        only: new Set(KINDS),
        json: false,
        debianMirror: "http://deb.debian.org/debian",
        securityMirror: "http://deb.debian.org/debian-security",
    };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
            return v;
        };
        switch (flag) {
            case "--recorded":
                a.recorded = value();
                break;
            case "--stack":
                a.stack = value();
                break;
            case "--dir":
                a.dir = value();
                break;
            case "--npm-root":
                a.npmRoot = value();
                break;
            case "--locks":
                a.locks = value();
                break;
            case "--debian-mirror":
                a.debianMirror = value().replace(/\/+$/, "");
                break;
            case "--security-mirror":
                a.securityMirror = value().replace(/\/+$/, "");
                break;
            case "--only": {
                const kinds = value().split(",");
                const bad = kinds.filter((k) => !(KINDS as readonly string[]).includes(k));
                if (bad.length) throw new UsageError(`--only ${bad.join(",")}: expected a comma-separated list of ${KINDS.join(", ")}`);
                a.only = new Set(kinds as Kind[]);
                break;
            }
            case "--json":
                a.json = true;
                break;
            default:
                throw new UsageError(`unknown argument '${flag}': expected --stack NAME, --recorded DIR, --only ${KINDS.join(",")}, --json, --dir, --npm-root, --locks, --debian-mirror, --security-mirror`);
        }
    }
    return a;
}

/** Debian packages: every component's defaults; a stack's exact opt-in pins replace the line where it sets them. */
function debianItems(a: VersionsArgs): AptItem[] {
    const items = new Map<string, AptItem>();
    for (const p of BASE_PACKAGES) items.set(p, { name: p, glob: "*", gating: true, note: undefined });
    // Optional packages (installed only when apt can) are reported, never gating.
    for (const p of debianPackages) items.set(p.name, { name: p.name, glob: p.line ? `${p.line}.*` : "*", gating: !p.optional, note: p.optional ? "optional" : undefined });
    if (a.stack) {
        const file = readStackFile(a.dir, a.stack);
        const cfg = parseStackConfig(file.config, new Set(file.secretKeys), a.stack);
        const nv = cfg.workstation.nvidia;
        if (nv.enabled && nv.driver.source === "debian" && nv.driver.version !== undefined) {
            for (const p of DEBIAN_DRIVER_PACKAGES) items.set(p, { name: p, glob: driverPin(nv), gating: true, note: `exact pin of stack ${a.stack}` });
        }
        const ct = cfg.workstation.containers;
        if (ct.enabled && ct.docker.version !== undefined) items.set("docker.io", { name: "docker.io", glob: dockerVersionGlob(ct), gating: true, note: `exact pin of stack ${a.stack}` });
    }
    return [...items.values()];
}

/**
 * Third-party apt repositories at their default URLs (config/workstation.ts, config/hybrid.ts) and exact pins
 * (config/versions.ts), as the steps pin them. Their indexes are often out of reach (this project's machines reach
 * only npm, PyPI, the Go proxy and Debian): then the rows say unreachable.
 */
function thirdParty(): { registry: string; url: string; items: AptItem[] }[] {
    const cuda = cudaDash(versions.cuda);
    return [
        {
            registry: "NVIDIA CUDA",
            url: "https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/Packages.gz",
            items: [
                { name: `cuda-toolkit-${cuda}`, glob: "*", gating: true },
                { name: `libcudnn9-cuda-${versions.cuda.split(".")[0]}`, glob: `${versions.cudnn}-1`, gating: false, note: "with nvidia.cuda.cudnn" },
                { name: "libnccl2", glob: `${versions.nccl}-1+cuda${versions.cuda}`, gating: false, note: "with nvidia.cuda.nccl" },
            ],
        },
        {
            registry: "NVIDIA container toolkit",
            url: "https://nvidia.github.io/libnvidia-container/stable/deb/amd64/Packages",
            items: [{ name: "nvidia-container-toolkit", glob: `${versions.nvidiaContainerToolkit}-*`, gating: true }],
        },
        { registry: "Grafana", url: "https://apt.grafana.com/dists/stable/main/binary-amd64/Packages", items: [{ name: "grafana", glob: versions.grafana, gating: true }] },
        {
            registry: "Google Cloud",
            url: "https://packages.cloud.google.com/apt/dists/cloud-sdk/main/binary-amd64/Packages",
            items: [{ name: "google-cloud-cli", glob: `${versions.googleCloudCli}-0`, gating: false, note: "gcp stack" }],
        },
        {
            registry: "Google Cloud",
            url: "https://packages.cloud.google.com/apt/dists/gcsfuse-bookworm/main/binary-amd64/Packages",
            items: [{ name: "gcsfuse", glob: versions.gcsfuse, gating: false, note: "with gcp.hybrid.data.mode gcsfuse" }],
        },
    ];
}

export async function versionsReport(a: VersionsArgs, source: Source): Promise<{ rows: Row[]; notes: string[] }> {
    const rows: Row[] = [];
    const notes: string[] = [];
    if (a.only.has("debian")) rows.push(...(await checkApt("Debian", debianItems(a), debianIndexes(a.debianMirror, a.securityMirror), source)));
    if (a.only.has("apt")) for (const t of thirdParty()) rows.push(...(await checkApt(t.registry, t.items, [{ url: t.url, suite: t.registry }], source)));
    if (a.only.has("npm")) rows.push(...(await checkNpm(npmItems(a.npmRoot), source)));
    if (a.only.has("pypi")) {
        const locks = lockItems(a.locks);
        const byDefault = locks.map((l) => l.lock).find((l) => l.startsWith(`torch-${versions.torch}-`)) ?? "";
        rows.push(...(await checkPypi(locks, byDefault, source)));
    }
    const gomods = goModules(REPO_ROOT);
    notes.push(gomods.length ? `Go modules: ${gomods.join(", ")} (not checked by this report)` : "Go modules: none (the repository has no go.mod: nothing is built with Go)");
    notes.push("Not checked: the Apptainer release .deb (GitHub, pinned by sha256) and container images (pinned by digest): neither has an index this report can read.");
    return { rows, notes };
}

export async function runVersionsCli(argv: string[], io: { out: (t: string) => void; err: (t: string) => void }): Promise<number> {
    let a: VersionsArgs;
    try {
        a = parseArgs(argv);
    } catch (err) {
        if (err instanceof UsageError) {
            io.err(`versions: ${err.message}\n`);
            return 2;
        }
        throw err;
    }
    if (a.recorded && !fs.existsSync(path.join(a.recorded, "answers.json"))) {
        io.err(`versions: --recorded ${a.recorded}: no answers.json there (a folder of recorded registry answers)\n`);
        return 2;
    }
    const source = a.recorded ? recordedSource(a.recorded) : liveSource();
    const { rows, notes } = await versionsReport(a, source);
    const bad = failing(rows);
    if (a.json) io.out(`${JSON.stringify({ rows, notes, failing: bad.map((r) => `${r.registry} ${r.name}`) }, null, 2)}\n`);
    else {
        io.out(`${renderTable(rows)}\n\n${notes.join("\n")}\n`);
        io.out(
            bad.length
                ? `\n${bad.length} default(s) cannot be installed or hold back a security fix: ${bad.map((r) => `${r.name} (${r.status})`).join(", ")}\n`
                : `\nEvery default installs and holds back no known security fix (${rows.filter((r) => r.status === "unreachable").length} row(s) unreachable).\n`,
        );
    }
    return bad.length ? 1 : 0;
}

if (require.main === module) {
    runVersionsCli(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then(
        (code) => process.stdout.write("", () => process.exit(code)),
        (err) => {
            process.stderr.write(`versions failed (an internal error): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
            process.exit(1);
        },
    );
}
