// Issue 11, "Non-root administrators over SSH": the `local` stack's program
// applied through the executor to a Debian 12 host whose sshd listens on 2222,
// connecting as `admin` (passwordless sudo) instead of root. Every step runs
// through `sudo -n`; a user whose sudo wants a password is stopped by the
// preflight with one message before anything changes; sshd hardening
// (workstation.base.sshd) is applied without locking anyone out; destroy
// restores the host's whole file tree.
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { Executor, opsSummary } from "./executor";
import { testbedStackConfig, TestbedStackOptions } from "./stack-config";
import { waitIdle } from "./cluster";
import { fileTree, treeDiff } from "./tree";

jest.setTimeout(1_800_000);

const log = (m: string) => process.stdout.write(`[admin ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
// The testbed's base already has root with keys only and no passwords (build-rootfs.sh): `false` is a change sshd must show.
const SSHD = { permitRootLogin: false, passwordAuthentication: false };
const SSHD_KEYS = "sshd -T | grep -E '^(permitrootlogin|passwordauthentication|kbdinteractiveauthentication|port) ' | sort";

const summary = opsSummary;

describe("a non-root admin over SSH on port 2222 (issue 11)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ex: Executor;
    let bare: string[];
    let sshdBefore: string;
    /** ws1 as the admin: the stack's connection, and the tests' own once root may no longer log in. */
    let admin: TestHost;
    const apply = async (label: string, e: Executor, o: Partial<TestbedStackOptions>) => {
        const { config, secretKeys } = testbedStackConfig(tb, { hosts: [ws1], ...o });
        const r = await e.apply(config, secretKeys);
        log(`${label}: ${summary(r.ran)} in ${r.durationMs} ms${r.error ? ` -- failed: ${r.error.message.split("\n")[0]}` : ""}`);
        return r;
    };

    beforeAll(async () => {
        tb = await bootTestbed({
            names: ["ws1"],
            fakeGpus: true,
            hostOptions: { ws1: { sshPort: 2222, admins: [{ user: "admin", sudo: "nopasswd" }, { user: "nosudo", sudo: "password" }] } },
            log,
        });
        [ws1] = tb.hosts;
        expect(ws1.port).toBe(2222);
        admin = { ...ws1, user: "admin" } as unknown as TestHost;
        bare = await fileTree(tb, ws1);
        sshdBefore = await tb.sshOk(ws1, SSHD_KEYS);
        ex = new Executor({ log: (m) => log(`  ${m}`) });
    });

    afterAll(async () => {
        ex?.dispose();
        await tb?.destroy();
    });

    test("a user whose sudo wants a password fails the preflight with one message naming the host and the fix; nothing changes", async () => {
        const bad = new Executor({ log: (m) => log(`  ${m}`) });
        try {
            const r = await apply("as nosudo", bad, { override: { ws1: { user: "nosudo" } }, sshd: SSHD });
            expect(r.error?.message).toMatch(
                /preflight: 1 host is unfit, nothing was changed:\n {2}- ws1: user 'nosudo' cannot run sudo without a password \(`sudo -n true` failed \(sudo: a password is required\)\).*Add `nosudo ALL=\(ALL\) NOPASSWD: ALL` in \/etc\/sudoers\.d\/aihpc-nosudo .*or connect as root \(hosts\[\]\.user\)/,
            );
            // The probe alone ran, as nosudo, in seconds (sudo -n never waits for a password).
            expect(r.ran.map((c) => `${c.op} ${c.name} ${c.exitCode}`)).toEqual(["create ws-ws1-facts 0"]);
            expect(r.ran[0].durationMs).toBeLessThan(30_000);
        } finally {
            bad.dispose();
        }
        expect(treeDiff(bare, await fileTree(tb, ws1))).toEqual({ added: [], removed: [] });
    });

    test("first apply as admin: every step through sudo -n, sshd hardened and still reachable, Slurm runs", async () => {
        const r = await apply("first apply as admin", ex, { override: { ws1: { user: "admin" } }, sshd: SSHD });
        if (r.error) throw r.error;
        expect(r.ran.every((c) => c.op === "create")).toBe(true);
        // Root's commands all go through sudo; the probe and the copies (the bundle, slurm.conf) run as admin.
        const notSudo = r.ran.filter((c) => !c.command.startsWith("sudo -n env ")).map((c) => c.name);
        expect(notSudo.sort()).toEqual(["ws-slurm-ws1-conf-copy", "ws-ws1-bundle-copy", "ws-ws1-facts"]);
        // Both copies were only the way in: installed as root, then removed.
        const copies = (await tb.sshOk(admin, "ls -la /var/tmp")).trim();
        expect(copies).not.toMatch(/aihpc-bundle|aihpc-file/);
        const step = r.ran.find((c) => c.name === "ws-ws1-base-sshd");
        log(`sshd apply: exit ${step?.exitCode}: ${step?.stdout.trim()} ${step?.stderr.trim()}`);
        expect(step?.stdout).toMatch(/^aihpc: reloaded ssh\.service$/m);
        // The drop-in is in place and sshd uses it: root may no longer log in, admin (key) still does.
        expect(await tb.sshOk(admin, "cat /etc/ssh/sshd_config.d/00-aihpc.conf")).toMatch(/^PermitRootLogin no$/m);
        const eff = await tb.sshOk(admin, `sudo -n sh -c "${SSHD_KEYS}"`);
        expect(eff.trim().split("\n")).toEqual(["kbdinteractiveauthentication no", "passwordauthentication no", "permitrootlogin no", "port 2222"]);
        const rootLogin = await tb.ssh(ws1, "true");
        expect({ code: rootLogin.code, stderr: rootLogin.stderr }).toEqual({ code: 255, stderr: expect.stringMatching(/Permission denied/) });
        expect((await tb.sshOk(admin, "id -un && sudo -n id -un")).trim().split("\n")).toEqual(["admin", "root"]);
        expect(await waitIdle(tb, admin, ["ws1"])).toEqual({ ws1: "idle" });
    });

    test("the same config again runs no command", async () => {
        const r = await apply("no-op apply as admin", ex, { override: { ws1: { user: "admin" } }, sshd: SSHD });
        if (r.error) throw r.error;
        expect(r.ran.map((c) => `${c.op} ${c.name}`)).toEqual([]);
    });

    test("destroy as admin leaves the host's whole file tree as it was after boot (sshd's drop-in gone, sshd reloaded: root logs in again)", async () => {
        const r = await ex.destroy();
        log(`destroy as admin: ${summary(r.ran)} in ${r.durationMs} ms`);
        if (r.error) throw r.error;
        expect(r.ran.every((c) => c.op === "delete" && (c.type !== "command:remote:Command" || c.command.startsWith("sudo -n env ")))).toBe(true);
        const del = r.ran.find((c) => c.name === "ws-ws1-base-sshd");
        log(`sshd delete: exit ${del?.exitCode}: ${del?.stdout.trim()} ${del?.stderr.trim()}`);
        expect(del?.stdout).toMatch(/^aihpc: reloaded ssh\.service$/m);
        const rootBack = await tb.ssh(ws1, "id -un");
        if (rootBack.code !== 0) {
            log(`root refused after destroy: ${rootBack.stderr.trim()}`);
            log(await tb.sshOk(admin, "sudo -n ls -la /etc/ssh/sshd_config.d; sudo -n sshd -T | grep -E '^permitroot'; sudo -n systemctl status ssh --no-pager -n 20 | cat", { timeoutMs: 30_000 }).catch((e) => String(e)));
        }
        expect(rootBack.stdout).toBe("root\n");
        const diff = treeDiff(bare, await fileTree(tb, ws1));
        if (diff.added.length || diff.removed.length) log(`tree differs: ${JSON.stringify(diff, null, 1)}`);
        expect(diff).toEqual({ added: [], removed: [] });
        expect(await tb.sshOk(ws1, SSHD_KEYS)).toBe(sshdBefore);
    });
});
