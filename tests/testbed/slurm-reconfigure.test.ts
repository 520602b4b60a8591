// Issue 14, item 5: reconfiguring a running cluster never kills a job. Each
// change is applied through the executor while a job runs (it waits for a
// release file, so it is surely in flight across the whole apply); the job
// then finishes COMPLETED, never requeued, its slurmstepd the same process as
// before the apply, and the change is in effect. One testbed: ws1
// (controller + compute), ws2 (compute), ws3 (added, then removed). The
// monitoring component is off: it has no part in Slurm's reconfiguration.
//
// Order: cluster of ws1+ws2 (1), a partition change: `scontrol reconfigure`,
// no daemon restarted (2), ws3 added: slurmctld then every slurmd restarted
// (3), accounting turned on: slurmdbd first, then slurmctld (4), ws3 removed
// while a job runs there: drained, waited for (a short drainTimeout fails
// first and changes nothing), then dropped (5).
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { ApplyResult, Executor, opsSummary } from "./executor";
import { testbedStackConfig, TestbedStackOptions } from "./stack-config";
import { eventually, waitIdle } from "./cluster";

jest.setTimeout(2_400_000);

const log = (m: string) => process.stdout.write(`[slurm-reconfigure ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const PARTITIONS = [{ name: "gpu", default: true, maxTime: "UNLIMITED" }];
/** The default partition's limit changed and a second partition on ws2 only. */
const PARTITIONS_B = [
    { name: "gpu", default: true, maxTime: "4:00:00" },
    { name: "short", hosts: ["ws2"], maxTime: "1:00:00", priorityTier: 2 },
];
const ACCOUNTING = { enabled: true, accounts: [{ name: "lab" }], users: [] };

/** A job in flight: it runs until the test creates its release file. */
interface Flight {
    id: string;
    node: TestHost;
    tag: string;
    /** PID of its batch step's slurmstepd on the node. */
    stepd: string;
}

describe("Slurm reconfiguration with a job in flight (issue 14)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ws2: TestHost;
    let ws3: TestHost;
    let ex: Executor;
    const timings: Record<string, number> = {};

    const apply = async (label: string, hosts: TestHost[], o: Partial<TestbedStackOptions> = {}): Promise<ApplyResult> => {
        const { config, secretKeys } = testbedStackConfig(tb, { hosts, partitions: PARTITIONS, monitoring: false, ...o });
        const r = await ex.apply(config, secretKeys);
        timings[label] = r.durationMs;
        log(`${label}: ${opsSummary(r.ran)} in ${r.durationMs} ms${r.error ? ` -- failed: ${r.error.message.split("\n")[0]}` : ""}`);
        for (const c of r.ran) log(`  ${c.op} ${c.name} (${c.durationMs} ms, exit ${c.exitCode})`);
        return r;
    };
    const ops = (r: ApplyResult) => r.ran.map((c) => `${c.op} ${c.name}`);
    const stdoutOf = (r: ApplyResult, name: string) => r.ran.find((c) => c.name === name)?.stdout ?? "";
    const mainPid = async (h: TestHost, unit: string) => (await tb.sshOk(h, `systemctl show -p MainPID --value ${unit}`)).trim();
    const jobField = async (id: string, field: string) => new RegExp(`\\b${field}=(\\S+)`).exec(await tb.sshOk(ws1, `scontrol show job -o ${id}`))?.[1];
    const stepdPid = async (f: Pick<Flight, "id" | "node">) => (await tb.ssh(f.node, `pgrep -f '^slurmstepd: \\[${f.id}\\.batch\\]'`)).stdout.trim();

    /** Submit a job to `node` that runs until released; returns once it runs. */
    const launch = async (node: TestHost, tag: string): Promise<Flight> => {
        await tb.sshOk(node, `rm -f /tmp/release-${tag} /tmp/done-${tag}`);
        const wrap = `while [ ! -e /tmp/release-${tag} ]; do sleep 1; done; echo done > /tmp/done-${tag}`;
        const id = (await tb.sshOk(ws1, `cd /tmp && sbatch --parsable -w ${node.name} -o /tmp/reconf-%j.out --wrap '${wrap}'`)).trim();
        await eventually(`job ${id} running on ${node.name}`, 120_000, async () => ((await jobField(id, "JobState")) === "RUNNING" ? true : undefined));
        const stepd = await eventually(`slurmstepd of job ${id}`, 30_000, async () => (await stepdPid({ id, node })) || undefined);
        log(`job ${id} in flight on ${node.name} (slurmstepd ${stepd})`);
        return { id, node, tag, stepd };
    };
    /** The job outlived the apply: still RUNNING, under the same slurmstepd, never requeued. */
    const stillFlying = async (f: Flight) => {
        expect({ state: await jobField(f.id, "JobState"), restarts: await jobField(f.id, "Restarts"), stepd: await stepdPid(f) }).toEqual({
            state: "RUNNING",
            restarts: "0",
            stepd: f.stepd,
        });
    };
    /** Release it: it ends COMPLETED (exit 0, never requeued) and wrote its marker. */
    const land = async (f: Flight) => {
        await tb.sshOk(f.node, `touch /tmp/release-${f.tag}`);
        const state = await eventually(`job ${f.id} ended`, 60_000, async () => {
            const s = await jobField(f.id, "JobState");
            return s && !["RUNNING", "COMPLETING", "PENDING", "CONFIGURING"].includes(s) ? s : undefined;
        });
        expect({ state, exit: await jobField(f.id, "ExitCode"), restarts: await jobField(f.id, "Restarts") }).toEqual({ state: "COMPLETED", exit: "0:0", restarts: "0" });
        expect(await tb.sshOk(f.node, `cat /tmp/done-${f.tag}`)).toBe("done\n");
    };
    /** slurm.conf is one text on every host. */
    const confSums = async (hosts: TestHost[]) => new Set(await Promise.all(hosts.map(async (h) => (await tb.sshOk(h, "md5sum < /etc/slurm/slurm.conf")).trim()))).size;
    /** No node is down or drained for a reason (a NodeName or config mismatch would show here). */
    const reasons = async () => (await tb.sshOk(ws1, "sinfo -h -R -o '%N %E'")).trim();

    beforeAll(async () => {
        const t0 = Date.now();
        tb = await bootTestbed({ names: ["ws1", "ws2", "ws3"], fakeGpus: true, log });
        [ws1, ws2, ws3] = tb.hosts;
        log(`booted 3 hosts in ${Date.now() - t0} ms`);
        ex = new Executor({ log: (m) => log(`  ${m}`) });
    });

    afterAll(async () => {
        log(`timings (ms): ${JSON.stringify(timings)}`);
        ex?.dispose();
        await tb?.destroy();
    });

    test("1. a cluster of ws1 + ws2; slurmd's unit leaves job steps alone on restart", async () => {
        const r = await apply("first apply", [ws1, ws2]);
        if (r.error) throw r.error;
        expect(await waitIdle(tb, ws1, ["ws1", "ws2"])).toEqual({ ws1: "idle", ws2: "idle" });
        // What a restart with jobs in flight relies on: systemd stops slurmd alone, never its slurmstepd children.
        expect((await tb.sshOk(ws2, "systemctl show -p KillMode --value slurmd")).trim()).toBe("process");
    });

    test("2. a partition change: only the config steps run, `scontrol reconfigure`, no daemon restarted, the job finishes", async () => {
        const job = await launch(ws2, "part");
        const before = { ctld: await mainPid(ws1, "slurmctld"), slurmd1: await mainPid(ws1, "slurmd"), slurmd2: await mainPid(ws2, "slurmd") };
        const r = await apply("partition change", [ws1, ws2], { partitions: PARTITIONS_B });
        if (r.error) throw r.error;
        // A new slurm.conf is a new stack file: copied to each host, then each host's config step (components/steps/copied.ts).
        expect(ops(r).sort()).toEqual(["update ws-slurm-ws1-conf-copy", "update ws-slurm-ws1-config", "update ws-slurm-ws2-conf-copy", "update ws-slurm-ws2-config"]);
        expect(stdoutOf(r, "ws-slurm-ws1-config")).toMatch(/scontrol reconfigure \(partitions changed\)/);
        expect(stdoutOf(r, "ws-slurm-ws2-config")).toMatch(/reloaded slurmd \(partitions changed\)/);
        expect({ ctld: await mainPid(ws1, "slurmctld"), slurmd1: await mainPid(ws1, "slurmd"), slurmd2: await mainPid(ws2, "slurmd") }).toEqual(before);
        await stillFlying(job);
        expect(await tb.sshOk(ws1, "scontrol show partition gpu")).toMatch(/MaxTime=04:00:00/);
        expect(await tb.sshOk(ws1, "scontrol show partition short")).toMatch(/Nodes=ws2\b[\s\S]*PriorityTier=2/);
        await land(job);
        const short = (await tb.sshOk(ws1, "cd /tmp && timeout 60 srun -p short hostname", { timeoutMs: 70_000 })).trim();
        expect(short).toBe("ws2");
        expect(await reasons()).toBe("");
        expect(ops(await apply("partition change again", [ws1, ws2], { partitions: PARTITIONS_B }))).toEqual([]);
    });

    test("3. a node added: ws3 set up, slurmctld then every slurmd restarted with one slurm.conf, the job on ws2 finishes, ws3 takes jobs", async () => {
        const job = await launch(ws2, "add");
        const before = { ctld: await mainPid(ws1, "slurmctld"), slurmd2: await mainPid(ws2, "slurmd") };
        const r = await apply("node added", [ws1, ws2, ws3], { partitions: PARTITIONS_B });
        if (r.error) throw r.error;
        // On the old hosts only their Slurm config; everything else is ws3's, new.
        const old = r.ran.filter((c) => c.host !== ws3.address).map((c) => `${c.op} ${c.name}`);
        expect(old.sort()).toEqual(["update ws-slurm-ws1-conf-copy", "update ws-slurm-ws1-config", "update ws-slurm-ws2-conf-copy", "update ws-slurm-ws2-config"]);
        expect(r.ran.filter((c) => c.host === ws3.address).every((c) => c.op === "create")).toBe(true);
        // slurmctld first: the compute hosts' config starts after the controller's ended.
        const ended = (n: string) => r.ran.find((c) => c.name === n)!;
        const ctl = ended("ws-slurm-ws1-config");
        for (const n of ["ws-slurm-ws2-config", "ws-slurm-ws3-config"]) expect(ended(n).startedAt).toBeGreaterThanOrEqual(ctl.startedAt + ctl.durationMs);
        expect(stdoutOf(r, "ws-slurm-ws1-config")).toMatch(/restarted slurmctld\.service/);
        expect(stdoutOf(r, "ws-slurm-ws2-config")).toMatch(/restarted slurmd\.service/);
        const after = { ctld: await mainPid(ws1, "slurmctld"), slurmd2: await mainPid(ws2, "slurmd") };
        expect(after.ctld).not.toBe(before.ctld);
        expect(after.slurmd2).not.toBe(before.slurmd2);
        await stillFlying(job);
        expect(await confSums([ws1, ws2, ws3])).toBe(1);
        await land(job);
        expect(await waitIdle(tb, ws1, ["ws1", "ws2", "ws3"])).toEqual({ ws1: "idle", ws2: "idle", ws3: "idle" });
        expect(await reasons()).toBe("");
        expect((await tb.sshOk(ws1, "cd /tmp && timeout 60 srun -w ws3 --gres=gpu:1 sh -c 'echo $(hostname) $CUDA_VISIBLE_DEVICES'", { timeoutMs: 70_000 })).trim()).toBe("ws3 0");
        expect(await tb.sshOk(ws1, "scontrol show partition gpu")).toMatch(/Nodes=ws\[1-3\]/);
        expect(ops(await apply("node added again", [ws1, ws2, ws3], { partitions: PARTITIONS_B }))).toEqual([]);
    });

    test("4. accounting turned on: slurmdbd up first, then slurmctld restarted with it; the job on ws3 finishes; sacct works", async () => {
        const job = await launch(ws3, "acct");
        const r = await apply("accounting on", [ws1, ws2, ws3], { partitions: PARTITIONS_B, slurm: { accounting: ACCOUNTING } });
        if (r.error) throw r.error;
        expect(ops(r).sort()).toEqual([
            "create ws-slurm-accounting-accounts",
            "create ws-slurm-accounting-backup",
            "create ws-slurm-accounting-dbd",
            "create ws-slurm-accounting-retain",
            "update ws-slurm-ws1-conf-copy",
            "update ws-slurm-ws1-config",
            "update ws-slurm-ws2-conf-copy",
            "update ws-slurm-ws2-config",
            "update ws-slurm-ws3-conf-copy",
            "update ws-slurm-ws3-config",
        ]);
        const cmd = (n: string) => r.ran.find((c) => c.name === n)!;
        expect(cmd("ws-slurm-ws1-config").startedAt).toBeGreaterThanOrEqual(cmd("ws-slurm-accounting-dbd").startedAt + cmd("ws-slurm-accounting-dbd").durationMs);
        expect(stdoutOf(r, "ws-slurm-ws1-config")).toMatch(/restarted slurmctld\.service/);
        expect(await tb.sshOk(ws1, "scontrol show config")).toMatch(/AccountingStorageType\s*= accounting_storage\/slurmdbd/);
        await stillFlying(job);
        await land(job);
        // The job that was running when accounting came on is recorded too (slurmctld sends its running jobs to slurmdbd when it connects).
        const inFlight = await eventually(`job ${job.id} in sacct`, 60_000, async () => (await tb.sshOk(ws1, `sacct -X -n -P -j ${job.id} --format=State,ExitCode`)).trim() || undefined);
        expect(inFlight).toBe("COMPLETED|0:0");
        const id = (await tb.sshOk(ws1, "cd /tmp && timeout 60 sbatch --wait --parsable -w ws2 --wrap true", { timeoutMs: 70_000 })).trim();
        const recorded = await eventually(`job ${id} in sacct`, 60_000, async () => (await tb.sshOk(ws1, `sacct -X -n -P -j ${id} --format=State,ExitCode`)).trim() || undefined);
        expect(recorded).toBe("COMPLETED|0:0");
        expect(await reasons()).toBe("");
        expect(await confSums([ws1, ws2, ws3])).toBe(1);
        expect(ops(await apply("accounting on again", [ws1, ws2, ws3], { partitions: PARTITIONS_B, slurm: { accounting: ACCOUNTING } }))).toEqual([]);
    });

    test("5. ws3 removed while it runs a job: drained and waited for (past drainTimeout: an error, nothing changed), then dropped once the job ended", async () => {
        const job = await launch(ws3, "rm");
        const gone = (drainTimeout: number) => ({ partitions: PARTITIONS_B, slurm: { accounting: ACCOUNTING, drainTimeout } });
        // A short timeout: the apply fails in the controller's config step and changes nothing else.
        const failed = await apply("node removed, drainTimeout 5", [ws1, ws2], gone(5));
        expect(failed.error?.message).toMatch(new RegExp(`node\\(s\\) ws3 still run job\\(s\\) ${job.id} after 5 s \\(workstation\\.slurm\\.drainTimeout\\): they stay drained and slurm\\.conf is unchanged`));
        // The new slurm.conf reached /var/tmp on both hosts; only the controller's config step ran, and failed.
        expect(ops(failed).sort()).toEqual(["update ws-slurm-ws1-conf-copy", "update ws-slurm-ws1-config", "update ws-slurm-ws2-conf-copy"]);
        expect(await tb.sshOk(ws1, "grep -c '^NodeName=ws3 ' /etc/slurm/slurm.conf")).toBe("1\n");
        expect(await tb.sshOk(ws1, "scontrol show node ws3")).toMatch(/State=\S*DRAIN[\s\S]*Reason=aihpc: removed from workstation\.hosts/);
        await stillFlying(job);

        // The default timeout: the apply waits for the job, which is released only once the wait is seen.
        const pending = apply("node removed", [ws1, ws2], gone(1800));
        let settled = false;
        void pending.then(() => (settled = true));
        // Its drain program (bash -c SCRIPT aihpc-drain-removed ...: a long command line, read whole from /proc).
        await eventually("the controller's config step waiting for ws3", 120_000, async () => ((await tb.ssh(ws1, "grep -qas '[a]ihpc-drain-removed' /proc/[0-9]*/cmdline")).code === 0 ? true : undefined));
        await new Promise((res) => setTimeout(res, 5000));
        expect(settled).toBe(false);
        await stillFlying(job);
        expect(await tb.sshOk(ws1, "grep -c '^NodeName=ws3 ' /etc/slurm/slurm.conf")).toBe("1\n");
        await land(job);
        const r = await pending;
        if (r.error) throw r.error;
        expect(stdoutOf(r, "ws-slurm-ws1-config")).toMatch(new RegExp(`waiting for job\\(s\\) ${job.id} on node\\(s\\) ws3 to end[\\s\\S]*no job runs on node\\(s\\) ws3[\\s\\S]*restarted slurmctld`));
        // ws1 and ws2: their Slurm config; ws3: only deletes (it leaves the stack).
        expect(r.ran.filter((c) => c.host !== ws3.address).map((c) => `${c.op} ${c.name}`).sort()).toEqual(["update ws-slurm-ws1-config", "update ws-slurm-ws2-config"]);
        expect(r.ran.filter((c) => c.host === ws3.address).every((c) => c.op === "delete")).toBe(true);
        expect((await tb.sshOk(ws1, `sacct -X -n -P -j ${job.id} --format=State,ExitCode`)).trim()).toBe("COMPLETED|0:0");
        expect(await tb.sshOk(ws1, "sinfo -h -N -o %N | sort -u")).toBe("ws1\nws2\n");
        expect((await tb.ssh(ws3, "systemctl is-active slurmd")).stdout.trim()).not.toBe("active");
        expect(await confSums([ws1, ws2])).toBe(1);
        expect(await reasons()).toBe("");
        expect(await waitIdle(tb, ws1, ["ws1", "ws2"])).toEqual({ ws1: "idle", ws2: "idle" });
        expect(ops(await apply("node removed again", [ws1, ws2], gone(1800)))).toEqual([]);
    });
});
