// The executor itself, on one booted host, with a small test-only program (the
// real Host component's facts probe plus file steps with create/update/delete):
// create, no-op, update, replace (create-before-delete), failure and recovery,
// removal, destroy order, stdin, local commands and host key pinning.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HostConfig, SecretValue } from "../../config";
import { Host, hostStep, scriptCommand } from "../../components/workstation/host";
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { countOps, Executor } from "./executor";

jest.setTimeout(900_000);

const log = (m: string) => process.stdout.write(`[executor] ${m}\n`);

interface TestConfig {
    host: { address: string; hostKey: string };
    content: string;
    trigger: string;
    fail?: boolean;
    withDependent: boolean;
    secret: string;
}

const DIR = "/etc/aihpc-exec-test";
const LOG = "/var/log/aihpc-exec-test.log";

/** Test-only program: facts, a file step (update/replace/delete), a dependent, a stdin step, a local step. */
function program(raw: Record<string, string>): unknown {
    const c = JSON.parse(raw["aihpc:exec"]) as TestConfig;
    const hostCfg = {
        name: "ex1",
        address: c.host.address,
        port: 22,
        user: "root",
        hostKey: c.host.hostKey,
        roles: ["controller", "compute"],
        gpus: { count: 0 },
    } as HostConfig;
    const host = new Host("exec-ex1", { host: hostCfg, transport: "ssh", privateKey: new SecretValue(raw["aihpc:sshPrivateKey"]) });
    if (host.transport.kind !== "ssh") throw new Error("executor test: expected an ssh transport");
    // A provider Command of its own: the stack's steps never use `triggers`, this test needs a replace.
    const file = new command.remote.Command(
        "exec-file",
        {
            connection: host.transport.connection,
            addPreviousOutputInEnv: false,
            create: scriptCommand(
                `set -eu; [ "$FAIL" = 0 ] || { echo "about to fail"; echo "it failed on purpose" >&2; exit 3; }
mkdir -p ${DIR}; printf '%s\\n' "$CONTENT" > ${DIR}/file; echo "file-create $CONTENT" >> ${LOG}; echo "wrote $CONTENT"`,
                { CONTENT: c.content, FAIL: c.fail ? 1 : 0 },
            ),
            delete: scriptCommand(`set -eu; rm -f ${DIR}/file; echo "file-delete" >> ${LOG}`),
            triggers: [c.trigger],
        },
        { parent: host, dependsOn: [host.probe] },
    );
    if (c.withDependent) {
        hostStep(
            "exec-dependent",
            host.transport,
            {
                create: scriptCommand(`set -eu; touch ${DIR}/dependent; echo "dependent-create" >> ${LOG}`),
                delete: scriptCommand(`set -eu; rm -f ${DIR}/dependent; echo "dependent-delete" >> ${LOG}`),
            },
            { parent: host, dependsOn: [file] },
        );
    }
    const stdinStep = hostStep(
        "exec-stdin",
        host.transport,
        { create: `umask 077; mkdir -p ${DIR}; cat > ${DIR}/secret; wc -c < ${DIR}/secret`, delete: `rm -f ${DIR}/secret`, stdin: pulumi.secret(c.secret) },
        { parent: host, dependsOn: [host.probe] },
    );
    const local = new command.local.Command("exec-local", { create: "echo local-$((40 + 2))" });
    return { facts: host.facts, stdinBytes: stdinStep.stdout, local: local.stdout };
}

describe("executor on a booted host", () => {
    let tb: Testbed;
    let h: TestHost;
    let ex: Executor;
    const cfg = (over: Partial<TestConfig> = {}): Record<string, string> => {
        const c: TestConfig = { host: { address: h.address, hostKey: h.hostKey }, content: "one", trigger: "t1", withDependent: true, secret: "s3cret-value", ...over };
        return { "aihpc:exec": JSON.stringify(c), "aihpc:sshPrivateKey": tb.privateKey };
    };
    const apply = (over: Partial<TestConfig> = {}) => ex.apply(cfg(over), ["aihpc:sshPrivateKey"]);
    const hostLog = async () => (await tb.ssh(h, `cat ${LOG} 2>/dev/null || true`)).stdout.trim().split("\n").filter(Boolean);

    beforeAll(async () => {
        tb = await bootTestbed({ names: ["ex1"], log });
        h = tb.hosts[0];
        ex = new Executor({ program, log });
    });

    afterAll(async () => {
        ex?.dispose();
        await tb?.destroy();
    });

    test("first apply creates every step, with real outputs", async () => {
        const r = await apply();
        expect(r.error).toBeUndefined();
        expect(countOps(r.ran)).toEqual({ create: 5, update: 0, delete: 0 });
        expect(r.ran.filter((c) => c.host === h.address).map((c) => c.name).sort()).toEqual(["exec-dependent", "exec-ex1-facts", "exec-file", "exec-stdin"]);
        const facts = r.outputs.facts as { hostname: string; os: { id: string; versionId: string }; systemd: string };
        expect(facts.hostname).toBe("ex1");
        expect(facts.os).toMatchObject({ id: "debian", versionId: "12" });
        expect(facts.systemd).toBe("running");
        expect(r.outputs.stdinBytes).toBe(String("s3cret-value".length));
        expect(r.outputs.local).toBe("local-42");
        // The secret went on stdin, never into a command string.
        expect(r.ran.some((c) => c.command.includes("s3cret-value"))).toBe(false);
        expect((await tb.sshOk(h, `cat ${DIR}/secret; stat -c %a ${DIR}/secret`)).split("\n")).toEqual(["s3cret-value600", ""]);
        expect(await tb.sshOk(h, `cat ${DIR}/file`)).toBe("one\n");
        // Dependencies ran first.
        const at = (n: string) => r.ran.findIndex((c) => c.name === n);
        expect(at("exec-ex1-facts")).toBeLessThan(at("exec-file"));
        expect(at("exec-file")).toBeLessThan(at("exec-dependent"));
        expect(await hostLog()).toEqual(["file-create one", "dependent-create"]);
    });

    test("the same inputs again run no command", async () => {
        const r = await apply();
        expect(r.error).toBeUndefined();
        expect(r.ran).toEqual([]);
        expect(r.outputs.local).toBe("local-42");
        expect((r.outputs.facts as { hostname: string }).hostname).toBe("ex1");
    });

    test("a changed command runs `update` (here: create again) on that step only", async () => {
        const r = await apply({ content: "two" });
        expect(r.error).toBeUndefined();
        expect(r.ran.map((c) => [c.name, c.op])).toEqual([["exec-file", "update"]]);
        expect(await tb.sshOk(h, `cat ${DIR}/file`)).toBe("two\n");
    });

    test("changed triggers replace: new create first, old delete at the end", async () => {
        const before = (await hostLog()).length;
        const r = await apply({ content: "two", trigger: "t2" });
        expect(r.error).toBeUndefined();
        expect(r.ran.map((c) => [c.name, c.op])).toEqual([
            ["exec-file", "create"],
            ["exec-file", "delete"],
        ]);
        expect((await hostLog()).slice(before)).toEqual(["file-create two", "file-delete"]);
        expect(r.steps.find((s) => s.name === "exec-file")?.step).toBe("replace");
    });

    test("a failing command fails the apply with its output; dependents do not run; the next apply updates it", async () => {
        const r = await apply({ content: "three", trigger: "t2", fail: true });
        expect(r.error).toBeDefined();
        expect(r.error!.message).toMatch(/exec-file .*update: Process exited with status 3: running "/);
        expect(r.error!.message).toContain("about to fail");
        expect(r.error!.message).toContain("it failed on purpose");
        expect(r.ran.map((c) => [c.name, c.op, c.exitCode])).toEqual([["exec-file", "update", 3]]);
        expect(ex.state.resources[r.errors[0].urn].initError).toBeDefined();

        const r2 = await apply({ content: "three", trigger: "t2" });
        expect(r2.error).toBeUndefined();
        expect(r2.ran.map((c) => [c.name, c.op])).toEqual([["exec-file", "update"]]);
        expect(await tb.sshOk(h, `cat ${DIR}/file`)).toBe("three\n");
        expect((await apply({ content: "three", trigger: "t2" })).ran).toEqual([]);
    });

    test("a resource dropped from the program is deleted with its previous inputs", async () => {
        const r = await apply({ content: "three", trigger: "t2", withDependent: false });
        expect(r.error).toBeUndefined();
        expect(r.ran.map((c) => [c.name, c.op])).toEqual([["exec-dependent", "delete"]]);
        expect((await tb.ssh(h, `test -e ${DIR}/dependent`)).code).toBe(1);
        const r2 = await apply({ content: "three", trigger: "t2", withDependent: true });
        expect(r2.ran.map((c) => [c.name, c.op])).toEqual([["exec-dependent", "create"]]);
    });

    test("a wrong host key fails at the dial, with the provider's retries, and runs nothing", async () => {
        const other = new Executor({ program });
        try {
            const wrongKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDdqSPzc0jbTeF4e3fZBNpxq+OW0Xmk1T3vYbNn5Yy8T";
            const c = cfg();
            const parsed = JSON.parse(c["aihpc:exec"]) as TestConfig;
            parsed.host.hostKey = wrongKey;
            const before = await hostLog();
            const r = await other.apply({ ...c, "aihpc:exec": JSON.stringify(parsed) }, ["aihpc:sshPrivateKey"]);
            expect(r.error?.message).toMatch(/could not connect to root@10\.213\.0\.\d+:22 after 10 attempts: .*Host key verification failed/s);
            expect(r.ran.filter((x) => x.host !== "local").map((x) => [x.name, x.exitCode, x.dialAttempts])).toEqual([["exec-ex1-facts", null, 10]]);
            expect(await hostLog()).toEqual(before);
        } finally {
            other.dispose();
        }
    });

    test("destroy deletes dependents first, with the state's inputs", async () => {
        const before = (await hostLog()).length;
        const r = await ex.destroy();
        expect(r.error).toBeUndefined();
        const names = r.ran.map((c) => c.name);
        expect(names.indexOf("exec-dependent")).toBeLessThan(names.indexOf("exec-file"));
        expect(r.ran.every((c) => c.op === "delete")).toBe(true);
        expect(names.sort()).toEqual(["exec-dependent", "exec-file", "exec-stdin"]);
        expect((await hostLog()).slice(before)).toEqual(["dependent-delete", "file-delete"]);
        expect(await tb.sshOk(h, `ls -A ${DIR}`)).toBe("");
        expect(Object.keys(ex.state.resources)).toEqual([]);
    });
});
