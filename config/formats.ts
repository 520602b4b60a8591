// Formats of values that reach a host: URLs written into apt and pip
// configuration, folders the stack creates, owns and removes, host names a
// script loops over. Each is parsed here once, refused with a message that
// says what is expected, and handed on re-serialised, so that no step script
// ever receives a value that could break out of the file it is written into.
import { isIP } from "net";
import * as posix from "path/posix";
import { z } from "zod";

// ---- URLs ------------------------------------------------------------------

export interface UrlRules {
    /** The setting may carry `user:password@` (e.g. a webhook); default refused. */
    credentials?: boolean;
    /** Placeholders such as `{version}` that the step substitutes; any other brace is refused. */
    placeholders?: readonly string[];
}

// What a repository, index or proxy URL needs: no quotes, `;`, braces,
// backslashes, spaces or shell characters that could end the quoted value
// apt.conf, a one-line source or a deb822 `URIs:` field holds it in.
const URL_CHARS = /^[A-Za-z0-9._~:/@%+=,[\]-]+$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

function quote(s: string): string {
    const j = JSON.stringify(s);
    return j.length > 72 ? `${j.slice(0, 69)}..."` : j;
}

/** The URL with any password replaced, for messages (a password is never echoed). */
function redact(raw: string): string {
    return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@]*@/i, "$1[credentials]@");
}

/**
 * Parse `raw` as an http(s) URL and return it re-serialised, or a problem
 * (what is wrong and what is expected). The value returned is what the steps
 * get; it contains only URL_CHARS.
 */
export function parseHttpUrl(raw: string, rules: UrlRules = {}): { url: string } | { problem: string } {
    const shown = quote(redact(raw));
    const bad = (why: string) => ({ problem: `got ${shown}, which ${why}: expected an http:// or https:// URL such as "https://mirror.example/debian"` });
    let text = raw;
    const marks: [string, string][] = [];
    (rules.placeholders ?? []).forEach((p, i) => {
        const mark = `aihpcplaceholder${i}x`;
        marks.push([mark, p]);
        text = text.split(p).join(mark);
    });
    // eslint-disable-next-line no-control-regex
    if (/[\s\u0000-\u001f\u007f]/.test(text)) return bad("contains a space, newline or control character");
    if (/\/\.{1,2}(\/|$)|%2e/i.test(raw.replace(/^[a-z]+:\/\//i, "/"))) return bad("has '.' or '..' path segments");
    if (/%(?:[01][0-9a-f]|7f|20|22|27|5c)/i.test(raw)) return bad("percent-encodes a control character, space, quote or backslash");
    if (raw.includes("?") || raw.includes("#")) return bad("has a query or fragment, which apt and pip repositories do not take");
    const odd = [...text].find((c) => !URL_CHARS.test(c));
    if (odd !== undefined) {
        const brace = odd === "{" || odd === "}";
        return bad(`contains ${quote(odd)}${brace && rules.placeholders?.length ? ` (only ${rules.placeholders.join(", ")} may be in braces)` : ""}, which no URL here needs and which could end the quoted value in the file it is written to`);
    }
    let u: URL;
    try {
        u = new URL(text);
    } catch {
        return bad("is not a URL");
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return bad(`has the scheme '${u.protocol.replace(/:$/, "")}'`);
    if ((u.username || u.password) && !rules.credentials) {
        return bad("carries credentials (user:password@), which would be shown in the plan and stored in state: remove them");
    }
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]/i.test(text)) return bad("has no host");
    if (!(DNS_NAME.test(u.hostname) || IPV4.test(u.hostname) || IPV6.test(u.hostname))) return bad(`has an invalid host name '${u.hostname}'`);
    const hasPath = /^[a-z][a-z0-9+.-]*:\/\/[^/]*\//i.test(text);
    const auth = u.username || u.password ? `${u.username}${u.password ? `:${u.password}` : ""}@` : "";
    let out = `${u.protocol}//${auth}${u.host}${hasPath || u.pathname !== "/" ? u.pathname : ""}`;
    if (!URL_CHARS.test(out)) return bad("does not re-serialise to a plain URL");
    for (const [mark, p] of marks) out = out.split(mark).join(p);
    return { url: out };
}

/** A zod string that is an http(s) URL (parsed, re-serialised); see parseHttpUrl. */
export function httpUrl(rules: UrlRules = {}) {
    return z.string().transform((s, ctx) => {
        const r = parseHttpUrl(s, rules);
        if ("problem" in r) {
            ctx.issues.push({ code: "custom", message: r.problem, input: s });
            return z.NEVER;
        }
        return r.url;
    });
}

/** The host of a URL that parseHttpUrl accepted. */
export function urlHost(url: string): string {
    return new URL(url.replace(/[{}]/g, "")).hostname;
}

// ---- folders the stack manages ----------------------------------------------

/**
 * Folders no setting may name, nor a parent of one: the stack chowns, chmods,
 * fills and on destroy removes the folders it is given, which on any of these
 * would break or destroy the system. The one deny list.
 */
export const SYSTEM_FOLDERS: readonly string[] = [
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt",
    "/proc", "/root", "/run", "/sbin", "/snap", "/srv", "/sys", "/tmp", "/usr", "/var",
    "/etc/aihpc", "/etc/apt", "/etc/default", "/etc/docker", "/etc/slurm", "/etc/ssh", "/etc/ssl", "/etc/sudoers.d", "/etc/systemd",
    "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libexec", "/usr/sbin", "/usr/share", "/usr/src",
    "/usr/local", "/usr/local/bin", "/usr/local/etc", "/usr/local/include", "/usr/local/lib", "/usr/local/sbin", "/usr/local/share", "/usr/local/src",
    "/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/log", "/var/mail", "/var/opt", "/var/spool", "/var/tmp",
    "/var/lib/aihpc", "/var/lib/apt", "/var/lib/dpkg", "/var/lib/systemd",
];

/** Folders whose contents are virtual, volatile, the boot loader's or the stack's own state (steps, bundle): no managed folder lives inside them. */
export const NOT_INSIDE: readonly string[] = ["/boot", "/dev", "/proc", "/run", "/sys", "/tmp", "/var/tmp", "/var/lib/aihpc"];

/** The problem with a managed folder, or undefined; `normal` is the path as the steps get it. */
export function managedPathProblem(raw: string): { path: string } | { problem: string } {
    const shown = quote(raw);
    const bad = (why: string) => ({ problem: `got ${shown}, which ${why}: expected an absolute folder of the stack's own such as "/srv/aihpc/data" (not a system folder, a parent of one, or a home folder)` });
    if (!raw.startsWith("/")) return bad("is not an absolute path");
    if (!/^[A-Za-z0-9._/-]+$/.test(raw)) return bad("holds characters other than letters, digits, '.', '_', '-' and '/' (no spaces or shell characters)");
    const segments = raw.split("/").filter(Boolean);
    if (segments.some((s) => s === "." || s === "..")) return bad("has '.' or '..' segments");
    const p = posix.normalize(`/${segments.join("/")}`);
    const hit = SYSTEM_FOLDERS.find((d) => d === p || d.startsWith(`${p === "/" ? "" : p}/`));
    if (hit !== undefined) {
        return bad(hit === p ? `is the system folder ${p}` : `is a parent of the system folder ${hit}`);
    }
    const inside = NOT_INSIDE.find((d) => p.startsWith(`${d}/`));
    if (inside !== undefined) return bad(`is inside ${inside}, which is virtual, volatile, the boot loader's or the stack's own state`);
    if (/^\/home\/[^/]+$/.test(p)) return bad("is a user's home folder");
    return { path: p };
}

/** A folder the stack creates, owns and may remove (normalised; see managedPathProblem). */
export const managedPath = z.string().transform((s, ctx) => {
    const r = managedPathProblem(s);
    if ("problem" in r) {
        ctx.issues.push({ code: "custom", message: r.problem, input: s });
        return z.NEVER;
    }
    return r.path;
});

/** A device file under /dev (GPU stand-ins on test hosts): read, never created or removed. */
export const devicePath = z
    .string()
    .regex(/^\/dev(\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/, "expected an absolute path of a device file under /dev such as \"/dev/nvidia0\" (no '..', spaces or shell characters)");

// ---- host names -------------------------------------------------------------

/** A DNS name or IPv4 address, as a script may loop over it (NTP servers). */
export const networkHost = z
    .string()
    .refine((s) => IPV4.test(s) || DNS_NAME.test(s.toLowerCase()), "expected a host name or IPv4 address such as \"ntp.example.org\" (one per list item: no spaces, commas or shell characters)");

/** An IPv4 or IPv6 address or network in CIDR notation ("192.168.10.0/24", "10.0.0.5", "fd00::/64"), normalised to its network. */
export const ipNetwork = z.string().refine((raw) => {
    const [addr, len, ...rest] = raw.split("/");
    const v = isIP(addr);
    if (v === 0 || rest.length) return false;
    if (len === undefined) return true;
    if (!/^\d{1,3}$/.test(len)) return false;
    return Number(len) <= (v === 4 ? 32 : 128);
}, "expected an IP address or network in CIDR notation, such as \"192.168.10.0/24\" or \"fd00::/64\"");
