// How the stack logs in to its hosts: aihpc:sshPrivateKey
// (config/ssh-private-key.ts), checked when the config is read and handed to
// the command provider in the smallest form its parser reads, since every
// command keeps it twice in Pulumi's state; or workstation.sshAuth 'agent',
// with no key at all (tests/testbed/ssh-agent.test.ts logs in with one).
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as sshpk from "sshpk";
import { parseSshPrivateKey } from "../../config/ssh-private-key";
import { forOpenSsh } from "../testbed/executor";
import { checkSshAgent } from "../../components/workstation/host";
import { configProblems, parseConfig, runProgram } from "../helpers/harness";
import { oneHost } from "../helpers/fixtures";
import { freshPrivateKey } from "../helpers/ssh-keys";
import { requireTool } from "../helpers/tools";

function parsed(text: string) {
    const r = parseSshPrivateKey(text);
    if ("problem" in r) throw new Error(r.problem);
    return r.key;
}

/** The public key line ssh-keygen derives from a private key file (OpenSSH's own reading). */
function keygenPublic(text: string): string {
    requireTool("ssh-keygen");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-key-"));
    try {
        const f = path.join(dir, "k");
        fs.writeFileSync(f, text, { mode: 0o600 });
        const r = spawnSync("ssh-keygen", ["-y", "-f", f], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`ssh-keygen -y: ${r.stderr}`);
        return r.stdout.trim().split(" ").slice(0, 2).join(" ");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("aihpc:sshPrivateKey", () => {
    test("an ed25519 key in the OpenSSH format goes on as PKCS#8 PEM: the same key, under a third of the size", () => {
        const openssh = freshPrivateKey();
        const key = parsed(openssh);
        expect(key.type).toBe("ed25519");
        expect(key.publicKey).toBe(keygenPublic(openssh));
        expect(key.pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=]{64}\n-----END PRIVATE KEY-----\n$/);
        expect(key.pem.length).toBe(119);
        expect(openssh.length).toBeGreaterThan(3 * key.pem.length);
        // RFC 8410's PKCS#8 as OpenSSL reads it: a signature made with it verifies under the public key the user gave.
        const data = Buffer.from("aihpc");
        const sig = crypto.sign(null, data, crypto.createPrivateKey(key.pem));
        const pub = sshpk.parseKey(key.publicKey, "ssh").toString("pkcs8");
        expect(crypto.verify(null, data, crypto.createPublicKey(pub), sig)).toBe(true);
        // Given again as it went on, it stays as it is (a stack re-read changes nothing).
        expect(parsed(key.pem).pem).toBe(key.pem);
    });

    test("RSA and ECDSA keys go on as given, trimmed", () => {
        for (const [type, name] of [["rsa", "rsa"], ["ec", "ecdsa"]] as const) {
            const text = freshPrivateKey(type);
            const key = parsed(`\n${text}\n\n`);
            expect(key.type).toBe(name);
            expect(key.pem).toBe(`${text.trim()}\n`);
            expect(key.publicKey).toBe(keygenPublic(text));
        }
    });

    test("a wrong key is refused with what was wrong and what is expected, and never a byte of the key", () => {
        const encrypted = freshPrivateKey("ed25519", { passphrase: "pw" });
        const weak = freshPrivateKey("rsa", { bits: 1024 });
        // An OpenSSH ed25519 key with another key's public half in every place it is kept.
        const [a, b] = [freshPrivateKey(), freshPrivateKey()];
        const pubOf = (t: string) => (sshpk.parsePrivateKey(t, "openssh").part as unknown as Record<string, { data: Buffer }>).A.data;
        const blob = Buffer.from(a.split("\n").filter((l) => l && !l.startsWith("-----")).join(""), "base64");
        for (let i = blob.indexOf(pubOf(a)); i >= 0; i = blob.indexOf(pubOf(a))) pubOf(b).copy(blob, i);
        const mismatched = `-----BEGIN OPENSSH PRIVATE KEY-----\n${blob.toString("base64").replace(/(.{70})/g, "$1\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
        const cases: [string, RegExp][] = [
            ["", /^is empty: expected the text of an unencrypted SSH private key file/],
            [`${sshpk.parsePrivateKey(freshPrivateKey(), "openssh").toPublic().toString("ssh")} alice@laptop`, /^holds a public key line \(the \.pub file\), not the private key/],
            [encrypted, /^is protected by a passphrase, which `pulumi up` has no way to type/],
            [weak, /^is an RSA key of 1024 bits, too weak/],
            [mismatched, /^is an ed25519 key whose public half does not match its private one/],
            ["-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", /^is not a private key in a format SSH reads/],
            ["hunter2", /^is not a private key in a format SSH reads/],
        ];
        for (const [text, want] of cases) {
            const r = parseSshPrivateKey(text);
            expect("problem" in r && r.problem).toMatch(want);
            const problem = (r as { problem: string }).problem;
            expect(problem).toMatch(/`pulumi config set --secret aihpc:sshPrivateKey < ~\/\.ssh\/id_ed25519`$/);
            for (const line of text.split("\n").filter((l) => l.length > 8 && !l.startsWith("-----"))) expect(problem).not.toContain(line);
        }
    });

    test("the stack config: the problem under the key's name, nothing else read; a good key reaches the program in its PKCS#8 form", () => {
        const raw = oneHost();
        raw.sshPrivateKey = "not a key";
        expect(configProblems(raw)).toEqual([expect.stringMatching(/^aihpc:sshPrivateKey: is not a private key in a format SSH reads/)]);
        const good = oneHost();
        const cfg = parseConfig(good);
        expect(cfg.sshPrivateKey?.value).toBe(parsed(good.sshPrivateKey).pem);
        expect(String(cfg.sshPrivateKey)).toBe("[secret]");
    });

    test("the testbed executor hands ssh(1) the OpenSSH format back (Debian 12's OpenSSH does not read ed25519 PKCS#8)", () => {
        const openssh = freshPrivateKey();
        const pem = parsed(openssh).pem;
        expect(keygenPublic(forOpenSsh(pem))).toBe(keygenPublic(openssh));
        expect(forOpenSsh(openssh.trim())).toBe(`${openssh.trim()}\n`);
    });
});

describe("workstation.sshAuth: agent", () => {
    const agentConfig = () => {
        const raw = oneHost();
        raw.workstation.sshAuth = "agent";
        delete raw.sshPrivateKey;
        return raw;
    };

    test("needs no key, refuses one (it would never be read) and a transport without SSH", () => {
        expect(configProblems(agentConfig(), [])).toEqual([]);
        const both = agentConfig();
        both.sshPrivateKey = freshPrivateKey();
        expect(configProblems(both)).toEqual([
            "aihpc:sshPrivateKey: set, but workstation.sshAuth is 'agent', which never reads it: remove it (`pulumi config rm aihpc:sshPrivateKey`) or set sshAuth: key",
        ]);
        const local = agentConfig();
        local.workstation.transport = "local";
        local.workstation.hosts = [{ name: "ws1", gpus: { count: 0 } }];
        expect(configProblems(local, [])).toEqual([expect.stringMatching(/^aihpc:workstation\.sshAuth: 'agent' is for transport 'ssh'/)]);
        const neither = oneHost();
        delete neither.sshPrivateKey;
        expect(configProblems(neither, [])).toEqual([expect.stringMatching(/^aihpc:sshPrivateKey: required with transport 'ssh': .*\(or workstation\.sshAuth: agent\)$/)]);
    });

    test("the plan: every connection without a key (a preview needs no agent)", async () => {
        const saved = process.env.SSH_AUTH_SOCK;
        delete process.env.SSH_AUTH_SOCK;
        try {
            const rec = await runProgram(agentConfig(), { secrets: [] });
            const withConnection = rec.resources.filter((r) => r.inputs.connection);
            expect(withConnection.length).toBeGreaterThan(20);
            for (const r of withConnection) expect(r.inputs.connection).not.toHaveProperty("privateKey");
        } finally {
            if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
        }
    });

    test("on `up`, a missing or dead SSH_AUTH_SOCK is one line naming the setting and the fix", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-agent-"));
        try {
            const file = path.join(dir, "file");
            fs.writeFileSync(file, "");
            const cases: [string | undefined, RegExp][] = [
                [undefined, /^workstation\.sshAuth is 'agent', but SSH_AUTH_SOCK is not set: start an agent holding the key the hosts accept \(`eval "\$\(ssh-agent\)"; ssh-add ~\/\.ssh\/id_ed25519`\)/],
                [path.join(dir, "gone"), /but SSH_AUTH_SOCK names .*gone, which does not exist \(an agent that has exited\?\)/],
                [file, /but SSH_AUTH_SOCK \(.*file\) is not a socket/],
            ];
            for (const [sock, want] of cases) {
                let err: Error | undefined;
                try {
                    checkSshAgent(sock);
                } catch (e) {
                    err = e as Error;
                }
                expect(err?.message).toMatch(want);
                expect(err?.message).toMatch(/; nothing was changed$/);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
