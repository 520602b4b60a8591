// Issue 14, item 4 on a booted Debian 12 host: container jobs with rootless
// Podman (workstation.slurm.containerJobs) and the job template
// container.sbatch. One host, ws1 (controller + compute) with two fake GPUs:
// one held by another job, so that the container job is granted the second.
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { Executor, opsSummary } from "./executor";
import { testbedStackConfig } from "./stack-config";
import { eventually, JOB_TEMPLATES, waitIdle } from "./cluster";
import { fileTree, treeDiff } from "./tree";

jest.setTimeout(1_800_000);

const log = (m: string) => process.stdout.write(`[slurm-containers ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const ALICE = { name: "alice", uid: 2001 };
/** What Podman needs as alice outside a job (the template sets the same). */
const ALICE_ENV = `env HOME=/home/alice XDG_RUNTIME_DIR=/tmp/podman-run-${ALICE.uid}`;
/**
 * A tiny image made from the host's own dash and coreutils (no registry is
 * reachable from the testbed): the sh, sleep and head of Debian 12.
 */
const MAKE_IMAGE = [
    "set -e",
    "d=$(mktemp -d) && chmod 0755 $d",
    "mkdir -p $d/usr/bin $d/usr/lib/x86_64-linux-gnu $d/usr/lib64 $d/tmp $d/proc $d/dev $d/sys $d/etc",
    "cp /usr/bin/dash /usr/bin/sleep /usr/bin/head /usr/bin/cat $d/usr/bin/",
    "ln -s dash $d/usr/bin/sh",
    "cp /lib/x86_64-linux-gnu/libc.so.6 $d/usr/lib/x86_64-linux-gnu/",
    "cp /lib64/ld-linux-x86-64.so.2 $d/usr/lib64/",
    "ln -s usr/bin $d/bin && ln -s usr/lib $d/lib && ln -s usr/lib64 $d/lib64",
    "tar -C $d -cf /tmp/aihpc-test-image.tar . && chmod 0644 /tmp/aihpc-test-image.tar && rm -rf $d",
    `install -d -m 0700 -o ${ALICE.name} -g ${ALICE.name} /tmp/podman-run-${ALICE.uid} && install -d -m 0755 -o ${ALICE.name} -g ${ALICE.name} /tmp/ctr`,
].join("\n");

describe("container jobs with rootless Podman on a booted host (issue 14)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ex: Executor;
    let bare: string[] = [];
    const cfg = () => testbedStackConfig(tb, { hosts: [ws1], users: [ALICE], monitoring: false, slurm: { containerJobs: { enabled: true } } });
    const as = (cmd: string) => `cd /tmp/ctr && runuser -u ${ALICE.name} -- ${cmd}`;
    const jobState = async (id: string) => (await tb.sshOk(ws1, `squeue -h -j ${id} -o '%T' 2>/dev/null || true`)).trim();
    /** alice's processes by command line: pid and the cgroup lines that name a job. */
    const procs = async (pattern: string) =>
        (await tb.sshOk(ws1, `for p in $(pgrep -u ${ALICE.name} -f '${pattern}'); do echo "$p $(grep -E ':(devices|freezer):' /proc/$p/cgroup | tr '\\n' ' ')"; done`))
            .trim()
            .split("\n")
            .filter(Boolean);

    beforeAll(async () => {
        tb = await bootTestbed({ names: ["ws1"], fakeGpus: 2, log });
        [ws1] = tb.hosts;
        bare = await fileTree(tb, ws1);
        ex = new Executor({ log: (m) => log(`  ${m}`) });
    });

    afterAll(async () => {
        ex?.dispose();
        await tb?.destroy();
    });

    test("1. apply installs Debian's Podman for rootless use; a second apply runs nothing", async () => {
        const { config, secretKeys } = cfg();
        const r = await ex.apply(config, secretKeys);
        log(`apply: ${opsSummary(r.ran)} in ${r.durationMs} ms`);
        if (r.error) throw r.error;
        expect(await waitIdle(tb, ws1, ["ws1"])).toEqual({ ws1: "idle" });
        expect(await tb.sshOk(ws1, "podman --version")).toMatch(/^podman version 4\./);
        expect(await tb.sshOk(ws1, `grep -c '^${ALICE.name}:' /etc/subuid /etc/subgid`)).toBe("/etc/subuid:1\n/etc/subgid:1\n");
        const again = await ex.apply(config, secretKeys);
        log(`no-op apply: ${opsSummary(again.ran)} in ${again.durationMs} ms`);
        expect(again.ran.map((c) => `${c.op} ${c.name}`)).toEqual([]);
    });

    test("2. the container job sees only the GPU Slurm granted, runs in the job's cgroup, and leaves nothing after scancel", async () => {
        await tb.sshOk(ws1, MAKE_IMAGE);
        // Podman as alice only inside jobs: its per-user helper process (the
        // rootless "pause" process) then also ends with the job.
        await tb.sshOk(ws1, as(`timeout 150 sbatch --wait --output=/tmp/ctr/import-%j.out --wrap '${ALICE_ENV} podman import /tmp/aihpc-test-image.tar localhost/aihpc-test'`), { timeoutMs: 160_000 });
        let hold = "";
        let job = "";
        try {
            // Another job takes the first GPU.
            hold = (await tb.sshOk(ws1, as("sbatch --parsable --gres=gpu:1 --wrap 'sleep 600'"))).trim();
            await eventually(`job ${hold} running`, 60_000, async () => ((await jobState(hold)) === "RUNNING" ? true : undefined));
            expect(await tb.sshOk(ws1, `scontrol show job -d ${hold} | grep -o 'IDX:[0-9]*'`)).toBe("IDX:0\n");
            const cmd = `sh -c 'echo devices: /dev/fakegpu*; head -c1 /dev/fakegpu1; head -c1 /dev/fakegpu0; exec sleep 601'`;
            job = (await tb.sshOk(ws1, as(`env IMAGE=localhost/aihpc-test sbatch --parsable --cpus-per-task=1 --mem-per-cpu=500 --output=/tmp/ctr/ctr-%j.out ${JOB_TEMPLATES}/container.sbatch ${cmd}`))).trim();
            const out = await eventually(`container job ${job} started its command`, 120_000, async () => {
                const o = (await tb.ssh(ws1, `cat /tmp/ctr/ctr-${job}.out`)).stdout;
                return /fakegpu0/.test(o) && (await procs("sleep 601")).length > 0 ? o : undefined;
            }).catch(async (e) => {
                log(`container job output:\n${(await tb.ssh(ws1, `cat /tmp/ctr/*.out`)).stdout}`);
                throw e;
            });
            log(`container job output:\n${out}`);
            expect(await tb.sshOk(ws1, `scontrol show job -d ${job} | grep -o 'IDX:[0-9]*'`)).toBe("IDX:1\n");
            expect(out).toMatch(/GPUs 1 = \/dev\/fakegpu1$/m);
            // Only the granted GPU's file is there; the job's cgroup lets it be
            // opened (no driver behind it: ENXIO, not EPERM).
            expect(out).toMatch(/^devices: \/dev\/fakegpu1$/m);
            expect(out).toMatch(/'\/dev\/fakegpu1' for reading: No such device or address/);
            expect(out).toMatch(/'\/dev\/fakegpu0' for reading: No such file or directory/);
            // The container's process and its monitor (conmon) are in the job's cgroups.
            const inside = [...(await procs("sleep 601")), ...(await procs("^/usr/bin/conmon "))];
            log(`container processes: ${JSON.stringify(inside)}`);
            expect(inside.length).toBeGreaterThanOrEqual(2);
            for (const p of inside) {
                expect(p).toMatch(new RegExp(`:devices:\\S*/job_${job}/`));
                expect(p).toMatch(new RegExp(`:freezer:\\S*/job_${job}/`));
            }
            await tb.sshOk(ws1, `scancel ${job}`);
            await eventually(`job ${job} gone`, 120_000, async () => ((await jobState(job)) === "" ? true : undefined));
            const left = await eventually("no container process left", 30_000, async () => {
                const l = [...(await procs("sleep 601")), ...(await procs("^/usr/bin/conmon "))];
                return l.length === 0 ? l : undefined;
            });
            expect(left).toEqual([]);
        } finally {
            await tb.ssh(ws1, `scancel ${[hold, job].filter(Boolean).join(" ")} 2>/dev/null; true`);
        }
        // The next container job runs to its end and drops the cancelled job's record.
        await eventually(`job ${hold} gone`, 120_000, async () => ((await jobState(hold)) === "" ? true : undefined));
        const next = (
            await tb.sshOk(ws1, as(`env IMAGE=localhost/aihpc-test timeout 150 sbatch --wait --parsable --cpus-per-task=1 --mem-per-cpu=500 --output=/tmp/ctr/ctr-%j.out ${JOB_TEMPLATES}/container.sbatch sh -c 'echo done'`), {
                timeoutMs: 160_000,
            })
        ).trim();
        expect(await tb.sshOk(ws1, `cat /tmp/ctr/ctr-${next}.out`)).toMatch(/^done$/m);
        const ps = (await tb.sshOk(ws1, as(`timeout 150 sbatch --wait --parsable --output=/tmp/ctr/ps-%j.out --wrap "${ALICE_ENV} podman ps -a --format '{{.Names}}'"`), { timeoutMs: 160_000 })).trim();
        expect(await tb.sshOk(ws1, `cat /tmp/ctr/ps-${ps}.out`)).toBe("");
        // Nothing of alice's runs outside a job.
        expect((await tb.ssh(ws1, `pgrep -u ${ALICE.name} -a`)).stdout).toBe("");
    });

    test("3. destroy purges Podman; the host's tree is the one before, but for alice's home folder (her data, images included)", async () => {
        const r = await ex.destroy();
        log(`destroy: ${opsSummary(r.ran)} in ${r.durationMs} ms`);
        if (r.error) throw r.error;
        expect((await tb.ssh(ws1, "command -v podman newuidmap")).stdout).toBe("");
        const diff = treeDiff(bare, await fileTree(tb, ws1));
        const inHome = (l: string) => l.endsWith(" /home/alice") || l.includes(" /home/alice/");
        const rest = { added: diff.added.filter((l) => !inHome(l)), removed: diff.removed };
        if (rest.added.length || rest.removed.length) log(`tree differs: ${JSON.stringify(rest, null, 1)}`);
        expect(rest).toEqual({ added: [], removed: [] });
        expect(diff.added.filter((l) => l.endsWith(" /home/alice"))).toEqual([expect.stringMatching(new RegExp(`^d 07[05]{2} ${ALICE.uid}:\\d+ /home/alice$`))]);
    });
});
