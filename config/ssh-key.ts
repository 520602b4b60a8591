// OpenSSH public keys as users paste them: `users[].sshKeys` (lines of an
// authorized_keys file) and `hosts[].hostKey` (what `ssh-keyscan` prints).
// One parser: a key is one line, a known type, base64 that decodes to a blob
// of that very type with the fields that type has (and nothing after them),
// an optional comment; authorized_keys options only where a setting allows
// them. The value handed on is the key re-serialised from what was parsed.

/** Key types and the fields of their blob after the type string (RFC 4253, 5656, 8709; OpenSSH PROTOCOL.u2f). */
const KEY_TYPES: Record<string, { curve?: string; fields: ("ed25519" | "mpint" | "curve" | "point" | "string")[]; hostKey: boolean }> = {
    "ssh-ed25519": { fields: ["ed25519"], hostKey: true },
    "ssh-rsa": { fields: ["mpint", "mpint"], hostKey: true },
    "ecdsa-sha2-nistp256": { curve: "nistp256", fields: ["curve", "point"], hostKey: true },
    "ecdsa-sha2-nistp384": { curve: "nistp384", fields: ["curve", "point"], hostKey: true },
    "ecdsa-sha2-nistp521": { curve: "nistp521", fields: ["curve", "point"], hostKey: true },
    "sk-ssh-ed25519@openssh.com": { fields: ["ed25519", "string"], hostKey: false },
    "sk-ecdsa-sha2-nistp256@openssh.com": { curve: "nistp256", fields: ["curve", "point", "string"], hostKey: false },
};

export const SSH_KEY_TYPES = Object.keys(KEY_TYPES);
export const SSH_HOST_KEY_TYPES = SSH_KEY_TYPES.filter((t) => KEY_TYPES[t].hostKey);

const POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** authorized_keys options (sshd(8)); those with a value take `name="..."`. */
const FLAG_OPTIONS = new Set([
    "agent-forwarding", "cert-authority", "no-agent-forwarding", "no-port-forwarding", "no-pty", "no-user-rc", "no-X11-forwarding",
    "port-forwarding", "pty", "no-touch-required", "verify-required", "restrict", "user-rc", "X11-forwarding",
]);
const VALUE_OPTIONS = new Set(["command", "environment", "expiry-time", "from", "permitlisten", "permitopen", "principals", "tunnel"]);

export interface SshPublicKey {
    /** authorized_keys options as written (only when allowed), e.g. `from="10.0.0.0/8",no-pty`. */
    options?: string;
    type: string;
    base64: string;
    comment?: string;
    /** The key as the steps get it: `[options ]type base64[ comment]`. */
    line: string;
}

export interface SshKeyRules {
    /** Accept authorized_keys options before the key (`command=`, `from=`, ...). */
    allowOptions?: boolean;
    /** A host key: only the types a host key can have, never options. */
    hostKey?: boolean;
}

function show(s: string): string {
    const j = JSON.stringify(s);
    return j.length > 60 ? `${j.slice(0, 57)}..."` : j;
}

/** Split the leading authorized_keys options off a line. */
function splitOptions(line: string): { options: string; rest: string } | { problem: string } {
    let i = 0;
    for (;;) {
        const m = /^[A-Za-z0-9-]+/.exec(line.slice(i));
        if (!m) return { problem: `expected an option name at character ${i + 1}` };
        const name = m[0];
        i += name.length;
        if (line[i] === "=") {
            if (!VALUE_OPTIONS.has(name)) return { problem: `unknown option '${name}='` };
            if (line[++i] !== '"') return { problem: `option '${name}=' needs a double-quoted value` };
            i++;
            while (i < line.length && line[i] !== '"') i += line[i] === "\\" ? 2 : 1;
            if (i >= line.length) return { problem: `option '${name}=' has no closing quote` };
            i++;
        } else if (!FLAG_OPTIONS.has(name)) {
            return { problem: `unknown option '${name}'` };
        }
        if (line[i] === ",") {
            i++;
            continue;
        }
        if (line[i] === " " || line[i] === "\t") return { options: line.slice(0, i), rest: line.slice(i).trimStart() };
        return { problem: "expected ',' or a space after an option" };
    }
}

/** Read the blob's SSH wire strings; the problem, or undefined when the blob is exactly a key of `type`. */
function blobProblem(blob: Buffer, type: string): string | undefined {
    let at = 0;
    const next = (): Buffer | undefined => {
        if (at + 4 > blob.length) return undefined;
        const n = blob.readUInt32BE(at);
        if (at + 4 + n > blob.length) return undefined;
        const out = blob.subarray(at + 4, at + 4 + n);
        at += 4 + n;
        return out;
    };
    const embedded = next();
    if (embedded === undefined) return "its base64 does not decode to an SSH key";
    const inner = embedded.toString("latin1");
    if (inner !== type) {
        return KEY_TYPES[inner] || /^[a-z0-9@.-]{3,64}$/.test(inner)
            ? `the label says '${type}' but the key inside is '${inner}': copy the whole line again`
            : "its base64 does not decode to an SSH key";
    }
    const spec = KEY_TYPES[type];
    for (const f of spec.fields) {
        const v = next();
        if (v === undefined) return `the ${type} key is cut short: copy the whole line again`;
        if (f === "ed25519" && v.length !== 32) return `an ${type} key holds 32 bytes, this one ${v.length}`;
        if (f === "curve" && v.toString("latin1") !== spec.curve) return `the label says '${type}' but the curve inside is '${v.toString("latin1")}'`;
        if (f === "point" && (v.length !== POINT_BYTES[spec.curve!] || v[0] !== 4)) return `the ${type} key's point is malformed`;
        if (f === "mpint" && (v.length === 0 || (v[0] & 0x80) !== 0)) return "the RSA key is malformed";
    }
    if (at !== blob.length) return `the ${type} key has ${blob.length - at} byte(s) of trailing data: copy the whole line again`;
    return undefined;
}

function rsaBits(blob: Buffer): number {
    let at = 0;
    const next = () => {
        const n = blob.readUInt32BE(at);
        const v = blob.subarray(at + 4, at + 4 + n);
        at += 4 + n;
        return v;
    };
    next();
    next();
    const n = next();
    let i = 0;
    while (i < n.length && n[i] === 0) i++;
    return i >= n.length ? 0 : (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]));
}

/**
 * Parse one public key line. The problem says what is wrong with the line and
 * what is expected; a secret never reaches it (public keys only).
 */
export function parseSshPublicKey(raw: string, rules: SshKeyRules = {}): { key: SshPublicKey } | { problem: string } {
    const types = rules.hostKey ? SSH_HOST_KEY_TYPES : SSH_KEY_TYPES;
    const expected = rules.hostKey
        ? "expected one SSH public host key line such as 'ssh-ed25519 AAAA... root@host' (`ssh-keyscan -t ed25519 HOST`)"
        : "expected one SSH public key line such as 'ssh-ed25519 AAAA... alice@laptop' (the contents of ~/.ssh/id_ed25519.pub)";
    const bad = (why: string) => ({ problem: `${why}: ${expected}, got ${show(raw)}` });
    if (typeof raw !== "string") return bad("is not a string");
    raw = raw.replace(/\r?\n$/, "");
    // eslint-disable-next-line no-control-regex
    if (/[\r\n\u2028\u2029]/.test(raw)) return bad("holds more than one line (a line break would add a second key to authorized_keys)");
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(raw)) return bad("holds a control character");
    let line = raw.trim();
    if (line === "") return bad("is empty");
    let options: string | undefined;
    const first = line.split(/[ \t]+/)[0];
    if (!KEY_TYPES[first]) {
        if (/^(ssh-dss|ssh-dsa|ecdsa-sha2-|sk-|ssh-)/.test(first)) {
            return bad(`'${first.slice(0, 40)}' is not a supported key type (supported: ${types.join(", ")})`);
        }
        if (rules.hostKey) return bad("does not start with a key type");
        const split = splitOptions(line);
        if ("problem" in split) return bad(`does not start with a key type, and is not an option list either (${split.problem})`);
        if (!rules.allowOptions) {
            return bad(`starts with the authorized_keys options ${show(split.options)}, which can run commands or open access: remove them, or set allowKeyOptions: true for this user`);
        }
        options = split.options;
        line = split.rest;
    }
    const parts = line.split(/[ \t]+/);
    const [type, base64] = parts;
    const comment = line.split(/[ \t]+/).length > 2 ? line.replace(/^\S+[ \t]+\S+[ \t]*/, "") : undefined;
    if (!KEY_TYPES[type]) return bad(`'${type.slice(0, 40)}' is not a supported key type (supported: ${types.join(", ")})`);
    if (!types.includes(type)) return bad(`'${type}' is a security-key type, which a host key never is`);
    if (base64 === undefined) return bad("has no key after the type");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) return bad("its key is not base64");
    const blob = Buffer.from(base64, "base64");
    if (blob.toString("base64") !== base64) return bad("its key is not canonical base64");
    const p = blobProblem(blob, type);
    if (p !== undefined) return bad(p);
    if (type === "ssh-rsa" && rsaBits(blob) < 2048) return bad(`an RSA key of ${rsaBits(blob)} bits is too weak (2048 bits or more, or use ssh-ed25519)`);
    const key: SshPublicKey = { type, base64, line: "" };
    if (options !== undefined) key.options = options;
    if (comment !== undefined && comment !== "") key.comment = comment;
    key.line = [key.options, type, base64, key.comment].filter((x) => x !== undefined).join(" ");
    return { key };
}
