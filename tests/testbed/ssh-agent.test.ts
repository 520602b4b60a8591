// workstation.sshAuth 'agent': the `local` stack applied to a Debian 12 host
// through the SSH agent of the process that runs it (SSH_AUTH_SOCK), with no
// aihpc:sshPrivateKey: no key in the config or the state. Without an agent the
// apply stops with one line before anything runs; an agent without the
// host's key gets the provider's authentication failure from the first
// (read-only) probe, so it is the agent that logs in.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startSshAgent, SshAgent } from "./agent";
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { Executor, opsSummary } from "./executor";
import { testbedStackConfig } from "./stack-config";
import { fileTree, treeDiff } from "./tree";

jest.setTimeout(1_800_000);

const log = (m: string) => process.stdout.write(`[ssh-agent ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

describe("workstation.sshAuth: agent", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ex: Executor;
    let bare: string[];
    let dir: string;
    let stateFile: string;
    const agents: SshAgent[] = [];
    let withKey: string;
    let empty: string;
    const savedSock = process.env.SSH_AUTH_SOCK;
    const config = () => testbedStackConfig(tb, { hosts: [ws1], sshAgent: true });
    const apply = async (label: string, e: Executor, socket: string | undefined) => {
        if (socket === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = socket;
        const { config: c, secretKeys } = config();
        const r = await e.apply(c, secretKeys);
        log(`${label}: ${opsSummary(r.ran)} in ${r.durationMs} ms${r.error ? ` -- failed: ${r.error.message.split("\n")[0]}` : ""}`);
        return r;
    };

    beforeAll(async () => {
        tb = await bootTestbed({ names: ["ws1"], fakeGpus: true, log });
        [ws1] = tb.hosts;
        bare = await fileTree(tb, ws1);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-agent-"));
        const a = await startSshAgent(dir, "with-key", [tb.privateKeyPath]);
        const b = await startSshAgent(dir, "empty", []);
        agents.push(a, b);
        withKey = a.socket;
        empty = b.socket;
        stateFile = path.join(dir, "state.json");
        ex = new Executor({ stateFile, log: (m) => log(`  ${m}`) });
    });

    afterAll(async () => {
        if (savedSock === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = savedSock;
        ex?.dispose();
        for (const a of agents) a.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
        await tb?.destroy();
    });

    test("the config holds no key; without SSH_AUTH_SOCK, or with one that is gone, the apply stops with one line and runs nothing", async () => {
        expect(Object.keys(config().config)).toEqual(["aihpc:workstation"]);
        let r = await apply("no agent", ex, undefined);
        expect(r.error?.message).toMatch(/^workstation\.sshAuth is 'agent', but SSH_AUTH_SOCK is not set: start an agent holding the key the hosts accept .*; nothing was changed$/);
        expect(r.ran).toEqual([]);
        r = await apply("agent gone", ex, path.join(dir, "gone.sock"));
        expect(r.error?.message).toMatch(/SSH_AUTH_SOCK names .*gone\.sock, which does not exist/);
        expect(r.ran).toEqual([]);
    });

    test("an agent without the host's key: the read-only probe fails to authenticate, nothing changes", async () => {
        const other = new Executor({ log: (m) => log(`  ${m}`) });
        try {
            const r = await apply("agent without the key", other, empty);
            expect(r.error?.message).toMatch(/Permission denied \(publickey\)|unable to authenticate/);
            expect(r.ran.map((c) => `${c.op} ${c.name}`)).toEqual(["create ws-ws1-facts"]);
        } finally {
            other.dispose();
        }
        expect(treeDiff(bare, await fileTree(tb, ws1))).toEqual({ added: [], removed: [] });
    });

    test("with the key in the agent: the stack applies, the state holds no private key, and a second apply runs nothing", async () => {
        let r = await apply("first apply", ex, withKey);
        if (r.error) throw r.error;
        expect(r.ran.length).toBeGreaterThan(15);
        expect((await tb.sshOk(ws1, "systemctl is-active slurmctld slurmd munge")).trim().split("\n")).toEqual(["active", "active", "active"]);
        const state = fs.readFileSync(stateFile, "utf8");
        expect(state).not.toContain("PRIVATE KEY");
        const connections = Object.values(JSON.parse(state).resources as Record<string, { inputs?: { connection?: object } }>).flatMap((e) => (e.inputs?.connection ? [e.inputs.connection] : []));
        expect(connections.length).toBeGreaterThan(15);
        for (const c of connections) expect(Object.keys(c).sort()).toEqual(["dialErrorLimit", "host", "hostKey", "perDialTimeout", "port", "user"]);
        r = await apply("no-op apply", ex, withKey);
        if (r.error) throw r.error;
        expect(r.ran).toEqual([]);
    });

    test("destroy through the agent leaves the host's file tree as it was after boot", async () => {
        process.env.SSH_AUTH_SOCK = withKey;
        const r = await ex.destroy();
        log(`destroy: ${opsSummary(r.ran)} in ${r.durationMs} ms`);
        if (r.error) throw r.error;
        expect(treeDiff(bare, await fileTree(tb, ws1))).toEqual({ added: [], removed: [] });
    });
});
