// The one OpenSSH public key parser (config/ssh-key.ts): users[].sshKeys and hosts[].hostKey.
import { parseSshPublicKey, SshKeyRules } from "../../config/ssh-key";
import { PUBLIC_KEYS } from "../helpers/ssh-keys";

const ED = PUBLIC_KEYS.ed25519;

function problem(line: string, rules: SshKeyRules = {}): string {
    const r = parseSshPublicKey(line, rules);
    return "problem" in r ? r.problem : "";
}

/** An SSH wire blob: each part as a uint32 length and its bytes. */
function blob(...parts: (string | Buffer)[]): string {
    return Buffer.concat(
        parts.flatMap((p) => {
            const b = typeof p === "string" ? Buffer.from(p) : p;
            const n = Buffer.alloc(4);
            n.writeUInt32BE(b.length);
            return [n, b];
        }),
    ).toString("base64");
}

describe("SSH public keys", () => {
    test.each(Object.entries(PUBLIC_KEYS).filter(([k]) => k !== "rsa1024"))("accepts a real %s key, with or without a comment", (_k, line) => {
        expect(parseSshPublicKey(line)).toEqual({ key: expect.objectContaining({ type: line.split(" ")[0], line }) });
        expect(parseSshPublicKey(`${line}  alice@laptop (work)\n`)).toEqual({ key: expect.objectContaining({ comment: "alice@laptop (work)", line: `${line} alice@laptop (work)` }) });
        expect(problem(line, { hostKey: true })).toBe("");
    });

    test("accepts security-key types for users, never as host keys", () => {
        const sk = `sk-ssh-ed25519@openssh.com ${blob("sk-ssh-ed25519@openssh.com", Buffer.alloc(32, 7), "ssh:")}`;
        expect(problem(sk)).toBe("");
        expect(problem(sk, { hostKey: true })).toMatch(/security-key type, which a host key never is/);
        const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]);
        expect(problem(`sk-ecdsa-sha2-nistp256@openssh.com ${blob("sk-ecdsa-sha2-nistp256@openssh.com", "nistp256", point, "ssh:")}`)).toBe("");
    });

    test.each([
        ["two keys in one item", `${ED}\n${PUBLIC_KEYS.ecdsa256}`, /more than one line/],
        ["a carriage return", `${ED}\rssh-ed25519 AAAA`, /more than one line/],
        ["a control character in the comment", `${ED} alice\u0007`, /control character/],
        ["an empty item", "  ", /is empty/],
        ["garbage base64", "ssh-ed25519 AAAA!!notbase64", /not base64/],
        ["base64 of something else", `ssh-ed25519 ${Buffer.from("hello world, not a key").toString("base64")}`, /does not decode to an SSH key/],
        ["a label of another type", ED.replace("ssh-ed25519", "ssh-rsa"), /label says 'ssh-rsa' but the key inside is 'ssh-ed25519'/],
        ["an ecdsa curve that is not the label's", `ecdsa-sha2-nistp384 ${PUBLIC_KEYS.ecdsa256.split(" ")[1]}`, /label says 'ecdsa-sha2-nistp384' but the key inside is 'ecdsa-sha2-nistp256'/],
        ["a key cut short", `ssh-ed25519 ${blob("ssh-ed25519", Buffer.alloc(30))}`, /holds 32 bytes, this one 30/],
        ["trailing bytes", `ssh-ed25519 ${blob("ssh-ed25519", Buffer.alloc(32), "extra")}`, /trailing data/],
        ["a truncated base64 key", `ssh-ed25519 ${ED.split(" ")[1].slice(0, 40)}`, /cut short|not base64/],
        ["an unsupported type", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", /'ssh-dss' is not a supported key type/],
        ["a weak RSA key", PUBLIC_KEYS.rsa1024, /1024 bits is too weak/],
        ["a type without a key", "ssh-ed25519", /no key after the type/],
        ["text that is no key at all", "hello", /does not start with a key type/],
    ])("refuses %s", (_what, line, message) => {
        expect(problem(line)).toMatch(message);
        expect(problem(line)).toMatch(/expected one SSH public key line/);
    });

    test("refuses authorized_keys options unless the setting allows them", () => {
        for (const opts of ['command="/bin/sh -c id"', 'from="10.0.0.0/8",no-pty', "restrict", 'environment="LD_PRELOAD=/tmp/x.so"']) {
            expect(problem(`${opts} ${ED}`)).toMatch(/authorized_keys options .* remove them, or set allowKeyOptions: true/);
            expect(parseSshPublicKey(`${opts} ${ED}`, { allowOptions: true })).toEqual({ key: expect.objectContaining({ options: opts, line: `${opts} ${ED}` }) });
            expect(problem(`${opts} ${ED}`, { hostKey: true })).toMatch(/does not start with a key type/);
        }
        expect(problem(`bogus-option ${ED}`, { allowOptions: true })).toMatch(/unknown option 'bogus-option'/);
        expect(problem(`command="unterminated ${ED}`, { allowOptions: true })).toMatch(/no closing quote/);
    });

    test("hands on the key re-serialised from what was parsed", () => {
        expect(parseSshPublicKey(`  ${ED}\t alice@laptop  `)).toEqual({ key: expect.objectContaining({ line: `${ED} alice@laptop` }) });
    });
});
