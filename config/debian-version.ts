// Debian version strings as dpkg orders them (Debian Policy 5.6.12:
// [epoch:]upstream[-revision]; `~` sorts before anything, even the end; letters
// before other characters; digit runs compare as numbers). Pure, so that the
// CrossGuard rules, which cannot run dpkg, and `npm run versions` share it;
// tests/unit/versions/debian-version.test.ts checks it against
// `dpkg --compare-versions`.

function order(c: string | undefined): number {
    if (c === undefined) return 0;
    if (c === "~") return -1;
    if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
    return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: one part (upstream or revision). */
function comparePart(a: string, b: string): number {
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
        let first = 0;
        while ((i < a.length && !/\d/.test(a[i])) || (j < b.length && !/\d/.test(b[j]))) {
            const ac = i < a.length && !/\d/.test(a[i]) ? order(a[i]) : 0;
            const bc = j < b.length && !/\d/.test(b[j]) ? order(b[j]) : 0;
            if (ac !== bc) return ac - bc;
            i++;
            j++;
        }
        while (a[i] === "0") i++;
        while (b[j] === "0") j++;
        while (i < a.length && /\d/.test(a[i]) && j < b.length && /\d/.test(b[j])) {
            if (!first) first = a.charCodeAt(i) - b.charCodeAt(j);
            i++;
            j++;
        }
        if (i < a.length && /\d/.test(a[i])) return 1;
        if (j < b.length && /\d/.test(b[j])) return -1;
        if (first) return first;
    }
    return 0;
}

function split(v: string): { epoch: number; upstream: string; revision: string } {
    const colon = v.indexOf(":");
    const epoch = colon > 0 ? Number(v.slice(0, colon)) : 0;
    const rest = colon > 0 ? v.slice(colon + 1) : v;
    const dash = rest.lastIndexOf("-");
    return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: "" };
}

/** <0, 0 or >0 as `dpkg --compare-versions a lt|eq|gt b`. */
export function compareDebianVersions(a: string, b: string): number {
    const x = split(a);
    const y = split(b);
    if (x.epoch !== y.epoch) return x.epoch - y.epoch;
    return comparePart(x.upstream, y.upstream) || comparePart(x.revision, y.revision);
}

/** Whether apt's `Pin: version GLOB` matches VERSION (fnmatch: `*` any run, `?` one character). */
export function pinMatches(glob: string, version: string): boolean {
    const re = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${re}$`).test(version);
}

/** The newest of some versions (undefined for none). */
export function newestDebian(vs: Iterable<string>): string | undefined {
    let best: string | undefined;
    for (const v of vs) if (best === undefined || compareDebianVersions(v, best) > 0) best = v;
    return best;
}
