// The step bundle: every file that steps run or install verbatim (the step
// library, step scripts, templates, sources), stored on each host once per
// version under /var/lib/aihpc/bundle/<sha256 of the file, 16 hex>/<name>.
// A step's command names its files by these paths, so:
//   - command strings stay small (no script or file text in argv or state);
//   - a step re-runs exactly when what it runs changed: its own script, the
//     library, a file it installs, or its settings (each is part of its
//     command); a change elsewhere in the bundle leaves it alone.
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import * as tar from "tar-stream";

/** Where the bundle lives on every host. */
export const BUNDLE_ROOT = "/var/lib/aihpc/bundle";
/** The step library and the bundle install script (lib.sh, bundle.sh, retain.sh). */
export const STEP_SCRIPTS_DIR = path.join(__dirname, "scripts");

const COMPONENTS = path.resolve(__dirname, "..");
const LOCAL_DIR = path.resolve(COMPONENTS, "..", ".aihpc");
// Code, dotfiles, snapshots and build output (acceptance's nvcc `bin/`) are not payloads.
const SKIP = /(\.ts$|^\.|^__|^bin$)/;

export interface BundleEntry {
    /** Absolute path in this checkout. */
    local: string;
    /** `<hash16>/<name>`, relative to BUNDLE_ROOT. */
    entry: string;
    data: Buffer;
}

export interface Bundle {
    entries: BundleEntry[];
    /** sha256 of the gzipped tar (what the hosts verify before unpacking). */
    sha256: string;
    /** The gzipped tar in this checkout (git-ignored `.aihpc/`). */
    file: string;
}

const sha16 = (b: Buffer) => createHash("sha256").update(b).digest("hex").slice(0, 16);

function walk(dir: string): string[] {
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((d) => !SKIP.test(d.name))
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : d.isFile() ? [path.join(dir, d.name)] : []));
}

let cached: { entries: BundleEntry[]; byPath: Map<string, BundleEntry> } | undefined;

/** Every non-code file under components/, content-addressed (read once per program run). */
export function bundleEntries(): { entries: BundleEntry[]; byPath: Map<string, BundleEntry> } {
    if (cached) return cached;
    const entries = walk(COMPONENTS).map((local): BundleEntry => {
        const data = fs.readFileSync(local);
        const name = path.basename(local);
        if (!/^[A-Za-z0-9._+-]+$/.test(name)) throw new Error(`bundle: file name '${local}' must be [A-Za-z0-9._+-] only (it is used unquoted in step commands)`);
        return { local, entry: `${sha16(data)}/${name}`, data };
    });
    cached = { entries, byPath: new Map(entries.map((e) => [e.local, e])) };
    return cached;
}

/** The path on a host of a file shipped in the bundle. */
export function bundlePath(local: string): string {
    const e = bundleEntries().byPath.get(path.resolve(local));
    if (!e) throw new Error(`bundle: '${local}' is not a bundled file (every non-.ts file under components/ is)`);
    return `${BUNDLE_ROOT}/${e.entry}`;
}

/** DIR/NAME with DATA, written atomically unless it is there already (its name is its checksum). */
function writeOnce(dir: string, name: string, data: Buffer): string {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
        fs.mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, data);
        fs.renameSync(tmp, file);
    }
    return file;
}

/**
 * NAME with DATA in this checkout's git-ignored `.aihpc/` (or, in a read-only
 * checkout, the system's temporary folder), written once: its name carries its checksum.
 */
export function writeLocal(name: string, data: Buffer): string {
    try {
        return writeOnce(LOCAL_DIR, name, data);
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "EACCES" && code !== "EROFS" && code !== "EPERM") throw e;
        return writeOnce(path.join(os.tmpdir(), "aihpc-bundles"), name, data);
    }
}

let built: Promise<Bundle> | undefined;

/**
 * The bundle as a gzipped tar, deterministic (sorted entries, fixed owner,
 * modes and times), written once per content to `.aihpc/bundle-<sha>.tar.gz`.
 */
export function buildBundle(): Promise<Bundle> {
    if (built) return built;
    built = (async () => {
        const { entries } = bundleEntries();
        const pack = tar.pack();
        const chunks: Buffer[] = [];
        const done = new Promise<void>((resolve, reject) => {
            pack.on("data", (c) => chunks.push(c as Buffer));
            pack.on("end", resolve);
            pack.on("error", reject);
        });
        const dirs = new Set<string>();
        for (const e of [...entries].sort((a, b) => (a.entry < b.entry ? -1 : 1))) {
            const dir = e.entry.split("/")[0];
            if (!dirs.has(dir)) {
                dirs.add(dir);
                pack.entry({ name: `${dir}/`, type: "directory", mode: 0o755, mtime: new Date(0), uid: 0, gid: 0 });
            }
            pack.entry({ name: e.entry, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: "root", gname: "root" }, e.data);
        }
        pack.finalize();
        await done;
        const gz = zlib.gzipSync(Buffer.concat(chunks), { level: 9 });
        const sha256 = createHash("sha256").update(gz).digest("hex");
        const name = `bundle-${sha256.slice(0, 16)}.tar.gz`;
        const file = writeLocal(name, gz);
        return { entries, sha256, file };
    })();
    return built;
}
