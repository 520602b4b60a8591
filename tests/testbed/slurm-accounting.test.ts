// Issue 14, items 1 and 3 on booted Debian 12 hosts: Slurm accounting (slurmdbd
// + MariaDB from Debian, associations, QoS limits, fair share, backups,
// retention) and GPU sharing with Slurm shards on a fake GPU device. One
// testbed: ws1 (controller + compute, slurmdbd) and ws2 (compute, its one GPU
// shared as 2 shards).
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { Executor, opsSummary } from "./executor";
import { testbedStackConfig, TestbedStackOptions } from "./stack-config";
import { eventually, JOB_TEMPLATES, waitIdle } from "./cluster";
import { fileTree, treeDiff } from "./tree";

jest.setTimeout(2_400_000);

const log = (m: string) => process.stdout.write(`[slurm-accounting ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const USERS = [
    { name: "alice", uid: 2001 },
    { name: "bob", uid: 2002 },
    // No association: refused at submit.
    { name: "carol", uid: 2003 },
];

const ACCOUNTING = {
    enabled: true,
    qos: [{ name: "onegpu", priority: 10, maxTresPerUser: "gres/gpu=1" }],
    accounts: [
        { name: "lab", fairshare: 10, description: "The lab" },
        { name: "vision", parent: "lab", fairshare: 5 },
    ],
    users: [
        { name: "alice", account: "vision", qos: ["normal", "onegpu"], defaultQos: "onegpu" },
        { name: "bob", account: "lab" },
    ],
    backup: { keep: 2 },
};

/** The same, bob removed, alice's share changed, one account added. */
const ACCOUNTING_B = {
    ...ACCOUNTING,
    accounts: [...ACCOUNTING.accounts, { name: "nlp", parent: "lab", fairshare: 3 }],
    users: [{ name: "alice", account: "vision", fairshare: 5, qos: ["normal", "onegpu"], defaultQos: "onegpu" }],
};

describe("Slurm accounting and GPU shards on booted hosts (issue 14)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ws2: TestHost;
    let ex: Executor;
    const bareTree: Record<string, string[]> = {};
    const opts = (accounting: Record<string, unknown>): Partial<TestbedStackOptions> => ({
        users: USERS,
        slurm: { accounting },
        gpuSharing: { ws2: { shards: 2 } },
    });
    const apply = async (label: string, o: Partial<TestbedStackOptions>) => {
        const { config, secretKeys } = testbedStackConfig(tb, { hosts: [ws1, ws2], ...o });
        const r = await ex.apply(config, secretKeys);
        log(`${label}: ${opsSummary(r.ran)} in ${r.durationMs} ms${r.error ? ` -- failed: ${r.error.message.split("\n")[0]}` : ""}`);
        return r;
    };
    const as = (user: string, cmd: string) => `cd /tmp && runuser -u ${user} -- ${cmd}`;
    const jobState = async (id: string) => (await tb.sshOk(ws1, `squeue -h -j ${id} -o '%T %r' 2>/dev/null || true`)).trim();
    /** Job ids in the accounting database (all users, allocations only). */
    const jobIds = async () =>
        (await tb.sshOk(ws1, "sacct -a -X -n -P -S 2020-01-01 --format=JobID"))
            .trim()
            .split("\n")
            .filter(Boolean)
            .sort();

    beforeAll(async () => {
        tb = await bootTestbed({ names: ["ws1", "ws2"], fakeGpus: true, log });
        [ws1, ws2] = tb.hosts;
        for (const h of [ws1, ws2]) bareTree[h.name] = await fileTree(tb, h);
        ex = new Executor({ log: (m) => log(`  ${m}`) });
    });

    afterAll(async () => {
        ex?.dispose();
        await tb?.destroy();
    });

    test("1. apply: slurmdbd and MariaDB on the controller, slurmdbd.conf 0600 slurm, the password in no command, GPU TRES and shards configured", async () => {
        const r = await apply("first apply", opts(ACCOUNTING));
        if (r.error) throw r.error;
        expect(await waitIdle(tb, ws1, ["ws1", "ws2"])).toEqual({ ws1: "idle", ws2: "idle" });
        expect((await tb.sshOk(ws1, "systemctl is-active slurmdbd mariadb")).trim().split("\n")).toEqual(["active", "active"]);
        expect((await tb.sshOk(ws1, "stat -c '%a %U:%G' /etc/slurm/slurmdbd.conf")).trim()).toBe("600 slurm:slurm");
        const pass = (await tb.sshOk(ws1, "sed -n 's/^StoragePass=//p' /etc/slurm/slurmdbd.conf")).trim();
        expect(pass).toMatch(/^[A-Za-z0-9]{32}$/);
        expect(r.ran.filter((c) => c.command.includes(pass)).map((c) => c.name)).toEqual([]);
        const conf = await tb.sshOk(ws1, "scontrol show config");
        expect(conf).toMatch(/AccountingStorageType\s*= accounting_storage\/slurmdbd/);
        expect(conf).toMatch(/AccountingStorageTRES\s*= .*gres\/gpu/);
        const enforce = /AccountingStorageEnforce\s*= (\S+)/.exec(conf)?.[1].split(",");
        expect(enforce).toEqual(expect.arrayContaining(["associations", "limits", "qos", "safe"]));
        expect(conf).toMatch(/PriorityType\s*= priority\/multifactor/);
        expect(conf).toMatch(/PriorityWeightFairShare\s*= 10000/i);
        expect((await tb.sshOk(ws1, "sacctmgr -nP show cluster format=cluster")).trim()).toBe("aihpc");
        expect((await tb.sshOk(ws1, "sacctmgr -nP show assoc format=account,user,parentname,fairshare,qos,defaultqos | LC_ALL=C sort")).trim().split("\n")).toEqual([
            "lab|bob||1|normal|normal",
            "lab||root|10|normal|",
            "root|root||1|normal|",
            "root|||1|normal|",
            "vision|alice||1|normal,onegpu|onegpu",
            "vision||lab|5|normal|",
        ]);
        // Shards take the type of the GPU whose file they share.
        expect(await tb.sshOk(ws1, "sinfo -h -N -o '%N %G' | LC_ALL=C sort")).toBe("ws1 gpu:fake:1\nws2 gpu:fake:1,shard:fake:2\n");
        expect(await tb.sshOk(ws1, "systemctl is-enabled aihpc-slurmdbd-backup.timer")).toBe("enabled\n");
    });

    test("2. applying the same config again runs no command", async () => {
        const r = await apply("no-op apply", opts(ACCOUNTING));
        if (r.error) throw r.error;
        expect(r.ran.map((c) => `${c.op} ${c.name}`)).toEqual([]);
    });

    test("3. a user without an association is refused at submit; one with an association runs", async () => {
        const carol = await tb.ssh(ws1, as("carol", "sbatch --wrap true"));
        expect(carol.code).not.toBe(0);
        expect(carol.stdout + carol.stderr).toMatch(/Invalid account or account\/partition combination specified/);
        const alice = await tb.sshOk(ws1, as("alice", "timeout 120 sbatch --wait --parsable --wrap 'true'"), { timeoutMs: 130_000 });
        expect(alice.trim()).toMatch(/^\d+$/);
    });

    test("4. a QoS limit of one GPU per user keeps alice's second GPU job pending with the QoS reason; sacct shows both with their GPU TRES; sshare shows usage", async () => {
        const submit = async () => (await tb.sshOk(ws1, as("alice", "sbatch --parsable --gres=gpu:1 --wrap 'sleep 20'"))).trim();
        const first = await submit();
        await eventually(`job ${first} running`, 60_000, async () => ((await jobState(first)).startsWith("RUNNING") ? true : undefined));
        const second = await submit();
        // The other node has a free GPU: only the QoS holds it back.
        const pending = await eventually(`job ${second} pending for the QoS`, 30_000, async () => {
            const s = await jobState(second);
            return /^PENDING QOSMax\S*PerUser/.test(s) ? s : undefined;
        });
        log(`second job: ${pending}`);
        // Then it runs when the first ends.
        await eventually(`jobs ${first} and ${second} done`, 120_000, async () => ((await jobState(first)) === "" && (await jobState(second)) === "" ? true : undefined));
        const sacct = await tb.sshOk(ws1, `sacct -X -n -P -j ${first},${second} --format=JobID,User,State,AllocTRES`);
        const lines = sacct.trim().split("\n");
        expect(lines).toHaveLength(2);
        for (const l of lines) expect(l).toMatch(/^\d+\|alice\|COMPLETED\|.*gres\/gpu=1/);
        const usage = await eventually("sshare: alice's usage", 330_000, async () => {
            const line = (await tb.sshOk(ws1, "sshare -nP -a -o Account,User,RawUsage")).split("\n").map((l) => l.trim()).find((l) => l.startsWith("vision|alice|"));
            return line && Number(line.split("|")[2]) > 0 ? line : undefined;
        });
        log(`sshare: ${usage}`);
    });

    test("4b. monitoring: Prometheus on the controller has alice's GPU seconds and queue waits (the QoS-held job waited), and her fair share", async () => {
        /** One instant query to the real Prometheus on ws1: series label sets and values. */
        const query = async (q: string) =>
            JSON.parse(await tb.sshOk(ws1, `curl -fsS --get --data-urlencode 'query=${q}' http://${ws1.address}:9090/api/v1/query`)).data.result.map(
                (r: { metric: Record<string, string>; value: [number, string] }) => ({ ...r.metric, value: Number(r.value[1]) }),
            );
        const alice = (q: string, ok: (v: number) => boolean) =>
            eventually(`Prometheus: ${q}`, 150_000, async () => {
                const rows = (await query(q)).filter((r: { user?: string }) => r.user === "alice");
                return rows.length === 1 && ok(rows[0].value) ? rows[0] : undefined;
            });
        // Two 20 s jobs of one GPU each (test 4), and a CPU-only job (test 3).
        const gpu = await alice('slurm_user_gpu_seconds{window="24h"}', (v) => v >= 30);
        log(`GPU seconds: ${JSON.stringify(gpu)}`);
        expect(gpu).toMatchObject({ account: "vision", job: "node", window: "24h" });
        // The second GPU job waited for the first (about 20 s) under the QoS.
        const wait = await alice('slurm_user_queue_wait_seconds_max{window="24h"}', (v) => v >= 10);
        const started = await alice('slurm_user_jobs_started{window="24h"}', (v) => v >= 3);
        log(`longest wait: ${wait.value} s over ${started.value} jobs`);
        expect(await alice("slurm_share_fairshare", (v) => v >= 0 && v <= 1)).toMatchObject({ account: "vision" });
        expect((await query("slurm_accounting_scrape_success")).map((r: { value: number }) => r.value)).toEqual([1]);
    });

    test("5. shards: two --gres=shard:1 jobs run at once on ws2's one GPU while a --gres=gpu:1 job waits; the shard template runs", async () => {
        // ws2 has 2 CPUs: the GPU job is submitted while one shard job runs and a
        // CPU is free, so what it waits for is the GPU (not a CPU).
        const wrap = "head -c1 /dev/fakegpu0 >/dev/null 2>/tmp/aihpc-shard-$SLURM_JOB_ID.err; sleep 600";
        const running = async (id: string) => ((await jobState(id)).startsWith("RUNNING") ? true : undefined);
        try {
            const s1 = (await tb.sshOk(ws1, as("bob", `sbatch --parsable -w ws2 --time=10 --gres=shard:1 --wrap '${wrap}'`))).trim();
            await eventually(`shard job ${s1} running`, 60_000, () => running(s1));
            const g = (await tb.sshOk(ws1, as("bob", "sbatch --parsable -w ws2 --time=1 --gres=gpu:1 --wrap 'sleep 1'"))).trim();
            await new Promise((r) => setTimeout(r, 15_000));
            const alone = await jobState(g);
            log(`GPU job beside one shard job (a CPU free): ${alone}`);
            expect(alone).toMatch(/^PENDING/);
            // A second shard job (shorter, so backfill may start it without delaying the GPU job) runs beside the first.
            const s2 = (await tb.sshOk(ws1, as("bob", `sbatch --parsable -w ws2 --time=3 --gres=shard:1 --wrap '${wrap}'`))).trim();
            await eventually(`shard job ${s2} running beside ${s1}`, 120_000, () => running(s2));
            const states = { s1: await jobState(s1), s2: await jobState(s2), g: await jobState(g) };
            log(`both shards in use: ${JSON.stringify(states)}; ${(await tb.sshOk(ws1, "scontrol show node ws2 | grep -E 'AllocTRES'")).trim()}`);
            expect(states.s1).toMatch(/^RUNNING/);
            expect(states.s2).toMatch(/^RUNNING/);
            expect(states.g).toMatch(/^PENDING/);
            // Each job's cgroup lets it open the shared GPU (ENXIO: no driver behind it, not EPERM).
            for (const id of [s1, s2]) {
                const err = await eventually(`job ${id} opened the GPU`, 30_000, async () => (await tb.ssh(ws2, `cat /tmp/aihpc-shard-${id}.err`)).stdout || undefined);
                expect(err).toMatch(/No such device or address/);
            }
            await tb.sshOk(ws1, `scancel ${s1} ${s2}`);
            await eventually(`job ${g} ran`, 120_000, async () => ((await jobState(g)) === "" ? true : undefined));
            expect((await tb.sshOk(ws1, `sacct -X -n -P -j ${g} --format=State,AllocTRES`)).trim()).toMatch(/^COMPLETED\|.*gres\/gpu=1/);
            expect((await tb.sshOk(ws1, `sacct -X -n -P -j ${s1},${s2} --format=AllocTRES`)).trim().split("\n")).toEqual([expect.stringMatching(/gres\/shard=1/), expect.stringMatching(/gres\/shard=1/)]);
            const tpl = (await tb.sshOk(ws1, as("bob", `timeout 120 sbatch --wait --parsable -w ws2 --output=/tmp/shard-%j.out ${JOB_TEMPLATES}/shard.sbatch`), { timeoutMs: 130_000 })).trim();
            expect(await tb.sshOk(ws2, `cat /tmp/shard-${tpl}.out`)).toMatch(/on ws2: shard of GPU CUDA_VISIBLE_DEVICES=0 \(shards on node: 1\)/);
        } finally {
            await tb.ssh(ws1, "scancel -u bob");
        }
    });

    test("6. accounts, users and QoS reconcile: only the accounts step runs; a removed user is refused but keeps its job history", async () => {
        const bobJobs = (await tb.sshOk(ws1, "sacct -X -n -P -u bob -S 2020-01-01 --format=JobID")).trim().split("\n").filter(Boolean);
        expect(bobJobs.length).toBeGreaterThanOrEqual(3);
        const r = await apply("accounts changed", opts(ACCOUNTING_B));
        if (r.error) throw r.error;
        expect(r.ran.map((c) => `${c.op} ${c.name}`)).toEqual(["update ws-slurm-accounting-accounts"]);
        expect(r.ran[0].stdout).toMatch(/sacctmgr delete user where name=bob/);
        expect((await tb.sshOk(ws1, "sacctmgr -nP show assoc format=account,user,parentname,fairshare | LC_ALL=C sort")).trim().split("\n")).toEqual([
            "lab||root|10",
            "nlp||lab|3",
            "root|root||1",
            "root|||1",
            "vision|alice||5",
            "vision||lab|5",
        ]);
        const bob = await tb.ssh(ws1, as("bob", "sbatch --wrap true"));
        expect(bob.code).not.toBe(0);
        // Every earlier job is still there (a record slurmctld had not yet sent may have joined them).
        expect((await tb.sshOk(ws1, "sacct -X -n -P -u bob -S 2020-01-01 --format=JobID")).trim().split("\n").filter(Boolean)).toEqual(expect.arrayContaining(bobJobs));
        const again = await apply("accounts unchanged", opts(ACCOUNTING_B));
        expect(again.ran.map((c) => `${c.op} ${c.name}`)).toEqual([]);
    });

    test("7. nightly dump: keeps the newest 2; restored into an empty database, the job history and associations are back", async () => {
        for (let i = 0; i < 3; i++) {
            await tb.sshOk(ws1, "systemctl start aihpc-slurmdbd-backup.service");
            await new Promise((r) => setTimeout(r, 1100));
        }
        const dumps = (await tb.sshOk(ws1, "ls /var/backups/aihpc-slurm-accounting")).trim().split("\n");
        expect(dumps).toHaveLength(2);
        expect(await tb.sshOk(ws1, "stat -c %a /var/backups/aihpc-slurm-accounting")).toBe("700\n");
        const ids = await jobIds();
        const assoc = await tb.sshOk(ws1, "sacctmgr -nP show assoc format=account,user,fairshare,qos | LC_ALL=C sort");
        expect(ids.length).toBeGreaterThanOrEqual(6);
        // An empty database: what a new host, or a lost disk, starts from.
        await tb.sshOk(ws1, "systemctl stop slurmctld slurmdbd && mariadb -e 'DROP DATABASE slurm_acct_db; CREATE DATABASE slurm_acct_db' && systemctl start slurmdbd");
        expect(await eventually("empty database", 30_000, async () => ((await tb.ssh(ws1, "sacctmgr -nP show assoc format=user")).code === 0 ? (await tb.sshOk(ws1, "sacctmgr -nP show assoc format=user")) : undefined))).toBe("");
        const newest = dumps.sort().at(-1)!;
        const restored = await tb.sshOk(ws1, `aihpc-slurmdbd-restore /var/backups/aihpc-slurm-accounting/${newest} && systemctl start slurmctld`, { timeoutMs: 120_000 });
        log(restored.trim());
        expect(await eventually("history back", 60_000, async () => {
            const now = await jobIds().catch(() => []);
            return now.length === ids.length ? now : undefined;
        })).toEqual(ids);
        expect(await tb.sshOk(ws1, "sacctmgr -nP show assoc format=account,user,fairshare,qos | LC_ALL=C sort")).toBe(assoc);
        expect(await waitIdle(tb, ws1, ["ws1", "ws2"])).toEqual({ ws1: "idle", ws2: "idle" });
        const alice = await tb.sshOk(ws1, as("alice", "timeout 120 sbatch --wait --parsable --wrap 'true'"), { timeoutMs: 130_000 });
        expect(alice.trim()).toMatch(/^\d+$/);
    });

    test("8. destroy keeps the database (retain default); a new apply finds the history; with retain false destroy leaves both hosts as they were (but for the research users' home folders, their data)", async () => {
        const ids = await jobIds();
        const d = await ex.destroy();
        log(`destroy (retained): ${opsSummary(d.ran)}`);
        if (d.error) throw d.error;
        expect((await tb.ssh(ws1, "systemctl is-active slurmdbd mariadb")).stdout.trim().split("\n")).toEqual(["inactive", "inactive"]);
        expect((await tb.ssh(ws1, "test -d /var/lib/mysql/slurm_acct_db && ls /var/backups/aihpc-slurm-accounting | wc -l")).stdout.trim()).toBe("2");

        const r = await apply("apply over the retained database", opts(ACCOUNTING_B));
        if (r.error) throw r.error;
        const now = await jobIds();
        expect(now.slice(0, ids.length)).toEqual(ids);

        const flip = await apply("retain false", opts({ ...ACCOUNTING_B, retain: false }));
        if (flip.error) throw flip.error;
        expect(flip.ran.map((c) => `${c.op} ${c.name}`)).toEqual(["update ws-slurm-accounting-retain"]);
        const gone = await ex.destroy();
        log(`destroy: ${opsSummary(gone.ran)}`);
        if (gone.error) throw gone.error;
        // The research users' accounts and groups are gone; their home folders
        // stay (their data, README: base users), still owned by their uids.
        const homes = USERS.map((u) => `/home/${u.name}`);
        const inHome = (l: string) => homes.some((d) => l.endsWith(` ${d}`) || l.includes(` ${d}/`));
        for (const h of [ws1, ws2]) {
            const diff = treeDiff(bareTree[h.name], await fileTree(tb, h));
            const rest = { added: diff.added.filter((l) => !inHome(l)), removed: diff.removed };
            if (rest.added.length || rest.removed.length) log(`${h.name}: tree differs: ${JSON.stringify(rest, null, 1)}`);
            expect({ host: h.name, ...rest }).toEqual({ host: h.name, added: [], removed: [] });
            expect(diff.added.filter((l) => homes.some((d) => l.endsWith(` ${d}`)))).toEqual(USERS.map((u) => expect.stringMatching(new RegExp(`^d 07[05]{2} ${u.uid}:\\d+ /home/${u.name}$`))));
            expect(diff.added.filter(inHome).every((l) => USERS.some((u) => l.includes(` ${u.uid}:`)))).toBe(true);
            expect((await tb.ssh(h, `getent passwd ${USERS.map((u) => u.name).join(" ")}`)).stdout).toBe("");
        }
    });
});
