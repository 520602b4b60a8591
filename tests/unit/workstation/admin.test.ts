// Issue 11, "Non-root administrators over SSH", under mocks: with hosts[].user
// not root, every command but the read-only probe runs through `sudo -n env`
// (components/steps/host-step.ts `asRoot`, the one place); settings and stdin still reach the
// script; the probe reports whether sudo works and the preflight refuses a
// host where it does not; sshd hardening renders one drop-in, on stdin, and
// the config refuses the setting that would lock out a root connection.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkFacts, parseFacts, PreflightError, readInlineScript, scriptCommand } from "../../../components/workstation/host";
import { asRoot } from "../../../components/steps/host-step";
import { sshdDropIn } from "../../../components/workstation/base-system/sshd";
import { configProblems, Recorded, runProgram } from "../../helpers/harness";
import { oneHost, twoHosts } from "../../helpers/fixtures";
import { stepReceived } from "../../helpers/steps";
import { factsHook, recordedFacts } from "./facts";

const STEP = "command:remote:Command";
const COPY = "command:remote:CopyToRemote";

function asAdmin(raw: Record<string, any>, user = "admin"): Record<string, any> {
    for (const h of raw.workstation.hosts) h.user = user;
    return raw;
}

/** Every command string (create, update, delete) of every remote step: [name, which, command]. */
function commands(rec: Recorded): [string, string, string][] {
    return rec.ofType(STEP).flatMap((r) => {
        const i = rec.inputsOf(r.name);
        return (["create", "update", "delete"] as const).filter((w) => typeof i[w] === "string").map((w): [string, string, string] => [r.name, w, i[w]]);
    });
}

describe("asRoot: the one wrapper", () => {
    // A stand-in for sudo that runs what follows `-n` as this user: what reaches the script is what sudo would hand on.
    let bin: string;
    beforeAll(() => {
        bin = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-sudo-"));
        fs.writeFileSync(path.join(bin, "sudo"), '#!/bin/sh\n[ "$1" = -n ] || { echo "sudo called without -n" >&2; exit 9; }\nshift\nexec "$@"\n', { mode: 0o755 });
    });
    afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

    test("settings with any content and the stdin payload reach the script through `sudo -n env`", () => {
        const nasty = `it's $(touch /tmp/pwned) "x" \`y\` ; | & \\ *`;
        const cmd = asRoot(scriptCommand('printf "%s|%s|" "$A" "$B"; cat', { A: nasty, B: "two words" }));
        expect(cmd.startsWith("sudo -n env A='it'\\''s $(touch /tmp/pwned)")).toBe(true);
        const out = execFileSync("/bin/sh", ["-c", cmd], { input: "secret on stdin\n", encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
        expect(out).toBe(`${nasty}|two words|secret on stdin\n`);
    });

    test("only step commands (settings, then bash) are wrapped; anything else is a programming error", () => {
        expect(asRoot("bash /var/lib/aihpc/bundle/x/lib.sh /var/lib/aihpc/bundle/y/s.sh")).toBe("sudo -n env bash /var/lib/aihpc/bundle/x/lib.sh /var/lib/aihpc/bundle/y/s.sh");
        expect(() => asRoot("rm -rf /x; bash y")).toThrow(/not a step command/);
        expect(() => asRoot("A='x' B=$(id) bash y")).toThrow(/not a step command/);
        expect(() => asRoot("if true; then bash; fi")).toThrow(/not a step command/);
    });
});

describe("hosts[].user other than root", () => {
    let admin: Recorded;
    let root: Recorded;
    beforeAll(async () => {
        const raw = (r: Record<string, any>) => Object.assign(r.workstation, { nvidia: { driver: { allowReboot: true } }, base: { sshd: { permitRootLogin: "no", passwordAuthentication: false } } }) && r;
        admin = await runProgram(raw(asAdmin(twoHosts())), { preview: false, newResource: factsHook() });
        root = await runProgram(twoHosts(), { preview: false, newResource: factsHook() });
    }, 120_000);

    test("every create, update and delete but the facts probe runs through `sudo -n env`, and only there", () => {
        const all = commands(admin);
        expect(all.length).toBeGreaterThan(50);
        const plain = all.filter(([, , c]) => !c.startsWith("sudo -n env ")).map(([n, w]) => `${n} ${w}`);
        expect(plain.sort()).toEqual(["ws-ws1-facts create", "ws-ws2-facts create"]);
        // The steps after a reboot keep it (their own transport copy).
        expect(admin.inputsOf("ws-nvidia-ws1-wait-reboot").create).toMatch(/^sudo -n env /);
        expect(admin.inputsOf("ws-ws1-bundle").delete).toMatch(/^sudo -n env bash -c /);
        // As root nothing changes: no sudo anywhere (a root-only host need not have it).
        expect(commands(root).filter(([, , c]) => c.startsWith("sudo"))).toEqual([]);
        // The probe is the same command for both; the copy to /var/tmp is the admin's own.
        expect(admin.inputsOf("ws-ws1-facts").create).toBe(root.inputsOf("ws-ws1-facts").create);
        // Per host: the step bundle and slurm.conf.
        expect(admin.ofType(COPY).map((r) => admin.inputsOf(r.name).connection.user)).toEqual(["admin", "admin", "admin", "admin"]);
    });

    test("behind sudo a step gets the same settings and stdin payload as without", () => {
        for (const name of ["ws-ws1-base-tuning", "ws-slurm-ws1-config", "ws-slurm-ws1-munge"]) {
            const a = admin.inputsOf(name);
            const r = root.inputsOf(name);
            expect(a.create).toBe(`sudo -n env ${r.create}`);
            expect(a.stdin).toEqual(r.stdin);
            expect(stepReceived(a)).toEqual(stepReceived(r));
        }
    });

    test("sshd hardening: one drop-in on the step's stdin, never in its command; the connection user named", () => {
        const i = admin.inputsOf("ws-ws1-base-sshd");
        const got = stepReceived(i);
        expect(got.vars.CONNECT_USER).toBe("admin");
        expect(got.vars.SSHD_CONF).toBe("# Managed by aihpc (workstation.base.sshd)\nPermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no");
        expect(i.create).not.toContain("PermitRootLogin");
        expect(i.delete).toMatch(/^sudo -n env AIHPC_ACTION='delete' .*sshd\.sh$/);
        expect(admin.named("ws-ws1-base-sshd").dependencies).toEqual(expect.arrayContaining([admin.named("ws-ws1-base-users").urn, admin.named("ws-ws1-base-packages").urn]));
        // Unset (the default): no step at all.
        expect(root.ofType(STEP).filter((r) => r.name.endsWith("-sshd"))).toEqual([]);
    });
});

describe("the facts probe checks sudo; the preflight refuses a host where it does not work", () => {
    const facts = (sudo: string) => parseFacts(`${recordedFacts("facts-debian12-2cpu.txt", "ws1")}user=admin\n${sudo}`);

    test("refused, absent, nopasswd, root", () => {
        expect(checkFacts("ws1", facts("sudo=refused\nsudo_error=sudo: a password is required\n"))).toEqual([
            "ws1: user 'admin' cannot run sudo without a password (`sudo -n true` failed (sudo: a password is required)): every step runs as root through `sudo -n`. " +
                "Add `admin ALL=(ALL) NOPASSWD: ALL` in /etc/sudoers.d/aihpc-admin (`visudo -f`; install sudo first if missing), or connect as root (hosts[].user)",
        ]);
        expect(checkFacts("ws1", facts("sudo=absent\n"))[0]).toMatch(/^ws1: user 'admin' cannot run sudo without a password \(sudo is not installed\)/);
        expect(checkFacts("ws1", facts("sudo=refused\n"), "local")[0]).toMatch(/, or run Pulumi as root$/);
        expect(checkFacts("ws1", facts("sudo=nopasswd\n"))).toEqual([]);
        expect(checkFacts("ws1", facts("sudo=root\n"))).toEqual([]);
    });

    test("a host whose sudo wants a password stops the apply before any step; only the probes ran", async () => {
        const created: string[] = [];
        const hook = factsHook();
        const raw = asAdmin(twoHosts());
        raw.workstation.nvidia = { enabled: false };
        const run = runProgram(raw, {
            preview: false,
            newResource: (args) => {
                if (args.type.startsWith("command:")) created.push(args.name);
                const r = hook(args);
                if (r && args.name === "ws-ws2-facts") return { ...r, stdout: `${r.stdout}user=admin\nsudo=refused\nsudo_error=sudo: a password is required\n` };
                return r;
            },
        });
        await expect(run).rejects.toThrow(PreflightError);
        await expect(run).rejects.toThrow(/preflight: 1 host is unfit, nothing was changed:\n {2}- ws2: user 'admin' cannot run sudo without a password/);
        expect(created.sort()).toEqual(["ws-ws1-facts", "ws-ws2-facts"]);
    }, 60_000);

    test("facts.sh reports the user and sudo when it runs", () => {
        const script = readInlineScript(path.join(__dirname, "../../../components/workstation/host/scripts"), "facts.sh");
        const f = parseFacts(execFileSync("/bin/sh", ["-c", scriptCommand(script)], { encoding: "utf8" }));
        expect(f.user).toBe(os.userInfo().username);
        expect(f.sudo).toBe(process.getuid?.() === 0 ? "root" : expect.stringMatching(/^(nopasswd|refused|absent)$/));
    });
});

describe("workstation.base.sshd", () => {
    test("renders only what is set; false is `no`", () => {
        expect(sshdDropIn({})).toBeUndefined();
        expect(sshdDropIn({ permitRootLogin: "prohibit-password" })).toBe("# Managed by aihpc (workstation.base.sshd)\nPermitRootLogin prohibit-password");
    });

    test("refuses to disable root logins when the stack connects as root, names the host and the fix", () => {
        for (const v of [false, "no"]) {
            const raw = oneHost();
            raw.workstation.base = { sshd: { permitRootLogin: v } };
            expect(configProblems(raw)).toEqual([
                "aihpc:workstation.base.sshd.permitRootLogin: 'no' would lock out hosts[0] ('ws1'), which the stack reaches as root: connect as an admin user with passwordless sudo (hosts[0].user) first, or use 'prohibit-password' (root with keys only)",
            ]);
        }
        const ok = asAdmin(oneHost());
        ok.workstation.base = { sshd: { permitRootLogin: false, passwordAuthentication: false } };
        expect(configProblems(ok)).toEqual([]);
        const keys = oneHost();
        keys.workstation.base = { sshd: { permitRootLogin: "prohibit-password" } };
        expect(configProblems(keys)).toEqual([]);
        const bad = oneHost();
        bad.workstation.base = { sshd: { permitRootLogin: "yes" } };
        expect(configProblems(bad)[0]).toMatch(/^aihpc:workstation\.base\.sshd\.permitRootLogin: /);
    });
});
