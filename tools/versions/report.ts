// `npm run versions`: every pinned or defaulted version the stack installs,
// against what the registries serve now. One row per package: the pin, the
// newest build the pin allows ("in line"), the newest overall, a security
// build or fix the pin keeps out, and whether the registry answered. Gating
// rows (what a default stack, or the stack named, installs) that cannot be
// installed or hold back a security fix make the exit status 1.
import * as fs from "fs";
import * as path from "path";
import { compareDebianVersions, newestDebian, pinMatches } from "../../config/debian-version";
import { versions } from "../../config/versions";
import { Source, mapLimit } from "./sources";

export type Status = "ok" | "unreachable" | "uninstallable" | "holds back security" | "not in registry";

export interface Row {
    registry: string;
    name: string;
    /** The pin as installed: an apt version glob, a lock's exact version, an npm range with the locked version. */
    pinned: string;
    inLine?: string;
    newest?: string;
    /** A security build or fix the pin keeps out (with where it comes from). */
    security?: string;
    status: Status;
    /** Why the security column is unknown (the registry would not say), when it is. */
    securityUnknown?: string;
    /** Whether this row decides the exit status (defaults and the stack's own pins). */
    gating: boolean;
    note?: string;
}

// ---------- Debian and other apt repositories ----------

export interface AptItem {
    name: string;
    /** `Pin: version` glob (`*`: whatever the suite ships). */
    glob: string;
    gating: boolean;
    note?: string;
}

export interface AptIndex {
    url: string;
    /** The suite (Debian) or repository; `-security` suites carry security builds. */
    suite: string;
}

/** Package -> its stanzas (version, Depends) in one Packages file, only the names asked for. */
export function parsePackages(text: string, names: ReadonlySet<string>): Map<string, { version: string; depends?: string }[]> {
    const out = new Map<string, { version: string; depends?: string }[]>();
    for (const stanza of text.split(/\n\n+/)) {
        const pkg = /^Package: (\S+)/m.exec(stanza)?.[1];
        const version = /^Version: (\S+)/m.exec(stanza)?.[1];
        if (!pkg || !version || !names.has(pkg)) continue;
        const list = out.get(pkg) ?? [];
        list.push({ version, depends: /^Depends: (.*)$/m.exec(stanza)?.[1] });
        out.set(pkg, list);
    }
    return out;
}

/** `name (= version)` dependencies (not alternatives) of a Depends field. */
export function exactDepends(depends: string | undefined): { name: string; version: string }[] {
    return (depends ?? "")
        .split(",")
        .map((d) => d.trim())
        .filter((d) => !d.includes("|"))
        .flatMap((d) => {
            const m = /^(\S+?)(?::any)? \(= (\S+)\)$/.exec(d);
            return m ? [{ name: m[1], version: m[2] }] : [];
        });
}

/** The Debian archive's Packages indexes for the suites the hosts use (versions.debianSuites), every area. */
export function debianIndexes(mirror: string, securityMirror: string): AptIndex[] {
    const areas = ["main", "contrib", "non-free", "non-free-firmware"];
    return versions.debianSuites.flatMap((suite) =>
        areas.map((area) => ({ url: `${suite.endsWith("-security") ? securityMirror : mirror}/dists/${suite}/${area}/binary-amd64/Packages.xz`, suite })),
    );
}

/** Check apt ITEMS against INDEXES of one registry. */
export async function checkApt(registry: string, items: AptItem[], indexes: AptIndex[], source: Source): Promise<Row[]> {
    const names = new Set(items.map((i) => i.name));
    const answers = await mapLimit(indexes, 4, async (ix) => ({ ix, a: await source.get(ix.url) }));
    const reached = answers.filter((x) => x.a.ok);
    const failed = answers.filter((x) => !x.a.ok).map((x) => `${x.ix.url}: ${(x.a as { why: string }).why}`);
    if (reached.length === 0) {
        return items.map((i) => ({ registry, name: i.name, pinned: i.glob, status: "unreachable", gating: i.gating, note: failed[0] }));
    }
    // Per package: every version served (with its Depends), and those from a -security suite.
    const texts = reached.map(({ ix, a }) => ({ ix, text: (a as { text: string }).text }));
    const all = new Map<string, Map<string, string | undefined>>();
    const security = new Map<string, Set<string>>();
    const collect = (wanted: ReadonlySet<string>) => {
        for (const { ix, text } of texts) {
            for (const [pkg, stanzas] of parsePackages(text, wanted)) {
                for (const st of stanzas) {
                    (all.get(pkg) ?? all.set(pkg, new Map()).get(pkg)!).set(st.version, st.depends);
                    if (ix.suite.endsWith("-security")) (security.get(pkg) ?? security.set(pkg, new Set()).get(pkg)!).add(st.version);
                }
            }
        }
    };
    collect(names);
    // Exact-version dependencies of the builds the pins choose: a build whose `(= V)` dependency the archive no
    // longer offers at V cannot be installed beside the rest (Debian rebuilds some after a security update, later).
    const inLineOf = (i: AptItem) => newestDebian([...(all.get(i.name)?.keys() ?? [])].filter((v) => pinMatches(i.glob, v)));
    const deps = new Map<string, { name: string; version: string }[]>();
    for (const i of items) {
        const v = inLineOf(i);
        if (v !== undefined) deps.set(i.name, exactDepends(all.get(i.name)!.get(v)));
    }
    collect(new Set([...deps.values()].flat().map((d) => d.name).filter((n) => !all.has(n))));
    // A partial answer (some indexes failed) cannot prove a package missing: say so instead of failing it.
    const partial = failed.length > 0;
    return items.map((i): Row => {
        const served = [...(all.get(i.name)?.keys() ?? [])];
        const inLine = newestDebian(served.filter((v) => pinMatches(i.glob, v)));
        const newest = newestDebian(served);
        const held = newestDebian([...(security.get(i.name) ?? [])].filter((v) => !pinMatches(i.glob, v) && (inLine === undefined || compareDebianVersions(v, inLine) > 0)));
        const base = { registry, name: i.name, pinned: i.glob, inLine, newest, gating: i.gating, note: i.note };
        if (served.length === 0) return { ...base, status: partial ? "unreachable" : "not in registry", note: partial ? failed[0] : i.note };
        if (held) return { ...base, security: held, status: "holds back security" };
        if (inLine === undefined) return { ...base, status: partial ? "unreachable" : "uninstallable", note: partial ? failed[0] : i.note };
        const broken = (deps.get(i.name) ?? []).flatMap((d) => {
            const candidate = newestDebian(all.get(d.name)?.keys() ?? []);
            return candidate !== undefined && candidate !== d.version ? [`${i.name} ${inLine} depends on ${d.name} (= ${d.version}), the archive's candidate is ${candidate}`] : [];
        });
        if (broken.length && !partial) return { ...base, status: "uninstallable", note: [i.note, ...broken].filter(Boolean).join("; ") };
        return { ...base, status: "ok" };
    });
}

// ---------- npm ----------

/** "1.2.3" -> [1,2,3]; prereleases (a `-`) and anything else -> undefined. */
function release(v: string): number[] | undefined {
    return /^\d+(\.\d+)*$/.test(v) ? v.split(".").map(Number) : undefined;
}

function compareRelease(a: number[], b: number[]): number {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const d = (a[i] ?? 0) - (b[i] ?? 0);
        if (d) return d;
    }
    return 0;
}

function newestRelease(vs: string[], accept: (r: number[]) => boolean = () => true): string | undefined {
    let best: { v: string; r: number[] } | undefined;
    for (const v of vs) {
        const r = release(v);
        if (r && accept(r) && (!best || compareRelease(r, best.r) > 0)) best = { v, r };
    }
    return best?.v;
}

/** What an npm range (`^x.y.z`, `~x.y.z`, `x.y.z`) lets in, for the releases this project uses. */
export function npmLine(range: string): (r: number[]) => boolean {
    const m = /^([~^]?)(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
    if (!m) return () => false;
    const [maj, min, pat] = [Number(m[2]), Number(m[3]), Number(m[4])];
    const floor = (r: number[]) => compareRelease(r, [maj, min, pat]) >= 0;
    if (m[1] === "^") return (r) => floor(r) && (maj > 0 ? r[0] === maj : r[0] === 0 && r[1] === min);
    if (m[1] === "~") return (r) => floor(r) && r[0] === maj && r[1] === min;
    return (r) => compareRelease(r, [maj, min, pat]) === 0;
}

/** The `dependencies` of ROOT/package.json with their locked versions (package-lock.json). */
export function npmItems(root: string): { name: string; range: string; locked?: string }[] {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages?: Record<string, { version?: string }> };
    return Object.entries(pkg.dependencies ?? {}).map(([name, range]) => ({ name, range, locked: lock.packages?.[`node_modules/${name}`]?.version }));
}

export async function checkNpm(items: { name: string; range: string; locked?: string }[], source: Source): Promise<Row[]> {
    const registry = "npm";
    // One bulk question for advisories against the locked versions (what `npm audit` asks).
    const wanted = Object.fromEntries(items.filter((i) => i.locked).map((i) => [i.name, [i.locked!]]));
    const audit = await source.get("https://registry.npmjs.org/-/npm/v1/security/advisories/bulk", wanted);
    const advisories = audit.ok ? (JSON.parse(audit.text) as Record<string, { title?: string; url?: string; patched_versions?: string; vulnerable_versions?: string }[]>) : undefined;
    return mapLimit(items, 6, async (i): Promise<Row> => {
        const pinned = `${i.range} (lock ${i.locked ?? "none"})`;
        const a = await source.get(`https://registry.npmjs.org/${i.name.replace("/", "%2f")}`);
        if (!a.ok) return { registry, name: i.name, pinned, status: "unreachable", gating: true, note: a.why };
        const doc = JSON.parse(a.text) as { versions?: Record<string, unknown>; "dist-tags"?: { latest?: string } };
        const all = Object.keys(doc.versions ?? {});
        const inLine = newestRelease(all, npmLine(i.range));
        const newest = doc["dist-tags"]?.latest ?? newestRelease(all);
        const adv = advisories?.[i.name] ?? [];
        const base = { registry, name: i.name, pinned, inLine, newest, gating: true };
        if (i.locked === undefined || !all.includes(i.locked)) return { ...base, status: "uninstallable", note: `locked version ${i.locked ?? "missing"} not served` };
        if (adv.length > 0) return { ...base, status: "holds back security", security: adv.map((x) => `${x.title ?? "advisory"} (patched ${x.patched_versions ?? "?"})`).join("; ") };
        return { ...base, status: "ok", securityUnknown: advisories ? undefined : `advisories: ${(audit as { why: string }).why}` };
    });
}

// ---------- PyPI (the ML runtime's locks) ----------

/** `name==version` of every lock file in DIR, by lock file. */
export function lockItems(dir: string): { lock: string; name: string; version: string }[] {
    return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".txt"))
        .sort()
        .flatMap((lock) =>
            [...fs.readFileSync(path.join(dir, lock), "utf8").matchAll(/^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)/gm)].map((m) => ({ lock, name: m[1].toLowerCase(), version: m[2] })),
        );
}

export async function checkPypi(items: { lock: string; name: string; version: string }[], defaultLock: string, source: Source): Promise<Row[]> {
    const registry = "PyPI";
    return mapLimit(items, 8, async (i): Promise<Row> => {
        const gating = i.lock === defaultLock;
        const pinned = `${i.version} (${i.lock})`;
        const project = await source.get(`https://pypi.org/pypi/${i.name}/json`);
        if (!project.ok) return { registry, name: i.name, pinned, status: "unreachable", gating, note: project.why };
        const doc = JSON.parse(project.text) as { info?: { version?: string }; releases?: Record<string, { yanked?: boolean }[]> };
        const served = Object.entries(doc.releases ?? {})
            .filter(([, files]) => files.length > 0 && files.some((f) => !f.yanked))
            .map(([v]) => v);
        const major = release(i.version.split("+")[0])?.[0];
        const inLine = newestRelease(served, (r) => r[0] === major);
        const newest = doc.info?.version ?? newestRelease(served);
        const base = { registry, name: i.name, pinned, inLine, newest, gating };
        if (!served.includes(i.version)) return { ...base, status: "uninstallable", note: "the locked version is not served (or yanked)" };
        // The version's own document lists the advisories against it (PyPI's `vulnerabilities`, from OSV); the
        // project's document lists those of the newest release only, so it answers only when the lock is the newest.
        const ver = i.version === doc.info?.version ? project : await source.get(`https://pypi.org/pypi/${i.name}/${i.version}/json`);
        if (!ver.ok) return { ...base, status: "ok", securityUnknown: `PyPI: ${ver.why}` };
        const vulns = ((JSON.parse(ver.text) as { vulnerabilities?: { id: string; fixed_in?: string[]; withdrawn?: string | null }[] }).vulnerabilities ?? []).filter(
            (v) => !v.withdrawn && (v.fixed_in ?? []).length > 0,
        );
        if (vulns.length > 0) return { ...base, status: "holds back security", security: vulns.map((v) => `${v.id} (fixed in ${v.fixed_in!.join(", ")})`).join("; ") };
        return { ...base, status: "ok" };
    });
}

// ---------- Go ----------

/** go.mod files of the repository (none today: the engine builds no Go; the report says so). */
export function goModules(root: string): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            if (e.name === "node_modules" || e.name.startsWith(".")) continue;
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.name === "go.mod") out.push(path.relative(root, p));
        }
    };
    walk(root);
    return out;
}

// ---------- the table ----------

export function failing(rows: Row[]): Row[] {
    return rows.filter((r) => r.gating && (r.status === "uninstallable" || r.status === "holds back security" || r.status === "not in registry"));
}

export function renderTable(rows: Row[]): string {
    const head = ["registry", "package", "pinned", "newest in line", "newest overall", "security update pending", "status"];
    const body = rows.map((r) => [
        r.registry,
        r.name,
        r.pinned,
        r.inLine ?? "-",
        r.newest ?? "-",
        r.security ?? (r.status === "unreachable" ? "?" : r.securityUnknown ? `? (${r.securityUnknown})` : "no"),
        `${r.status === "ok" ? "ok" : r.status.toUpperCase()}${r.gating ? "" : " (not a default)"}${r.note ? `: ${r.note}` : ""}`,
    ]);
    const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...body.map((b) => b[i].length))));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
    return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
