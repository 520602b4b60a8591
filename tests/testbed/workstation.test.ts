// Issue 3, "Tests that must pass on the testbed": the `local` stack's program
// (defineStack) applied for real, through the executor, to booted Debian 12
// hosts. One testbed for the whole file: ws1 (controller + compute) and ws2
// (compute), one fake GPU each, plus "nosd", a host without systemd.
//
// Order: bad inputs on bare hosts (6), unreachable apt proxy and mirror (6b),
// provision (1), no-op (2), one partition
// setting (3), destroy (5), then a fresh first apply cut mid-way and resumed (4).
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { Executor, opsSummary } from "./executor";
import { DEFAULT_PARTITIONS, testbedStackConfig, TestbedStackOptions } from "./stack-config";
import { eventually, nodeExportersUp, runGpuTemplateJob, waitIdle } from "./cluster";
import { fileTree, TREE_IGNORE, treeDiff } from "./tree";

jest.setTimeout(1_800_000);

const log = (m: string) => process.stdout.write(`[workstation ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

/** What the stack could have touched on a host: packages, enabled units, files. */
const SNAPSHOT = [
    "dpkg-query -W -f='${Package} ${Version} ${Status}\\n' | sort | md5sum",
    "systemctl list-unit-files --no-legend --no-pager 2>/dev/null | sort | md5sum",
    "find /etc /usr/local /var/lib/aihpc /opt -xdev \\( -type f -o -type l \\) -printf '%p %s %m %T@\\n' 2>/dev/null | sort | md5sum",
].join("; ");

/** Services, config files and packages the stack installs (issue 3 components). */
const STACK_SERVICES = ["slurmctld", "slurmd", "munge", "prometheus", "prometheus-node-exporter", "prometheus-alertmanager", "chrony"];
const STACK_PACKAGES = ["slurm-wlm", "slurmctld", "slurmd", "munge", "prometheus", "prometheus-node-exporter", "prometheus-alertmanager", "chrony"];
const STACK_FILES = [
    "/etc/slurm/slurm.conf",
    "/etc/slurm/gres.conf",
    "/etc/slurm/cgroup.conf",
    "/etc/munge/munge.key",
    "/etc/prometheus/rules/aihpc.rules.yml",
    "/usr/local/share/aihpc/jobs",
    "/usr/local/sbin/aihpc-node-health",
    "/etc/aihpc",
    "/var/lib/aihpc",
    "/etc/apt/apt.conf.d/80aihpc-proxy",
];

const summary = opsSummary;

describe("workstation stack on booted hosts (issue 3)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ws2: TestHost;
    let nosd: TestHost;
    let ex: Executor;
    const timings: Record<string, number> = {};
    /** Each host's whole file tree before anything was applied (see tree.ts). */
    const bareTree: Record<string, string[]> = {};
    const cfg = (o: Partial<TestbedStackOptions> = {}) => testbedStackConfig(tb, { hosts: [ws1, ws2], ...o });
    const apply = async (label: string, e: Executor, o: Partial<TestbedStackOptions> = {}) => {
        const { config, secretKeys } = cfg(o);
        const r = await e.apply(config, secretKeys);
        timings[label] = r.durationMs;
        log(`${label}: ${summary(r.ran)} in ${r.durationMs} ms${r.error ? ` -- failed: ${r.error.message.split("\n")[0]}` : ""}`);
        return r;
    };
    const snapshot = async (h: TestHost) => tb.sshOk(h, SNAPSHOT);

    beforeAll(async () => {
        const t0 = Date.now();
        tb = await bootTestbed({ names: ["ws1", "ws2", "nosd"], fakeGpus: true, withoutSystemd: ["nosd"], log });
        [ws1, ws2, nosd] = tb.hosts;
        log(`booted 3 hosts in ${Date.now() - t0} ms`);
        for (const h of [ws1, ws2]) bareTree[h.name] = await fileTree(tb, h);
        ex = new Executor({ log: (m) => log(`  ${m}`) });
    });

    afterAll(async () => {
        log(`timings (ms): ${JSON.stringify(timings)}`);
        ex?.dispose();
        await tb?.destroy();
    });

    describe("6. bad inputs fail with a clear message and change nothing", () => {
        const cases: [string, () => Partial<TestbedStackOptions>, RegExp][] = [
            ["an unreachable host", () => ({ override: { ws2: { port: 2222 } } }), /could not connect to root@10\.213\.0\.12:2222 .*Connection refused/s],
            ["a wrong host key", () => ({ override: { ws2: { hostKey: ws1.hostKey } } }), /could not connect to root@10\.213\.0\.12:22 .*Host key verification failed/s],
            ["a host without systemd", () => ({ hosts: [ws1, nosd] }), /nosd.*systemd is not running as PID 1/s],
        ];
        test.each(cases)("%s", async (what, over, message) => {
            const hosts = [ws1, ws2, nosd];
            const before = await Promise.all(hosts.map(snapshot));
            const bad = new Executor({ log: (m) => log(`  ${m}`) });
            let changing: string[] = [];
            try {
                const r = await apply(`bad: ${what}`, bad, over());
                expect(r.error).toBeDefined();
                expect(r.error!.message).toMatch(message);
                // Nothing but read-only probes may have run.
                changing = r.ran.filter((c) => !c.name.endsWith("-facts") && !c.name.endsWith("-preflight")).map((c) => `${c.op} ${c.name} on ${c.host}`);
            } finally {
                bad.dispose();
            }
            // Needs every changing step to wait for a check of all hosts (facts
            // of every host, Debian 12, systemd): the engine, like this
            // executor, otherwise provisions the good hosts while a bad one fails.
            expect({ changedHosts: (await Promise.all(hosts.map(snapshot))).map((s, i) => (s === before[i] ? "" : hosts[i].name)).filter(Boolean), changing }).toEqual({
                changedHosts: [],
                changing: [],
            });
        });
    });

    describe("6b. bad apt settings", () => {
        test("an unreachable apt proxy, then mirror, fails in seconds in the step that owns the setting; destroy restores the tree", async () => {
            // One host per apply, a fresh executor each time, destroyed at once.
            const badApply = async (label: string, o: Partial<TestbedStackOptions>) => {
                const e = new Executor({ log: (m) => log(`  ${m}`) });
                try {
                    const r = await apply(label, e, { hosts: [ws1], ...o });
                    const d = await e.destroy();
                    log(`destroy after ${label}: ${summary(d.ran)}${d.error ? ` -- failed: ${d.error.message.split("\n")[0]}` : ""}`);
                    const failed = r.ran.filter((c) => c.exitCode !== 0).map((c) => ({ step: c.name.replace(/^.*-(?=apt-)/, ""), seconds: Math.ceil(c.durationMs / 1000) }));
                    return { message: r.error?.message ?? "", failed, destroyError: d.error?.message };
                } finally {
                    e.dispose();
                }
            };
            // Nothing listens on this port of the bridge.
            const proxy = await badApply("bad: unreachable apt proxy", { aptProxy: "http://10.213.0.1:3999" });
            expect(proxy.message).toMatch(/workstation\.aptProxy: nothing answers at 10\.213\.0\.1:3999 from ws1 \(5 s\)/);
            expect(proxy.failed.map((f) => f.step)).toEqual(["apt-proxy"]);
            expect(proxy.failed[0].seconds).toBeLessThanOrEqual(10);
            expect(proxy.destroyError).toBeUndefined();
            // The proxy lets deb.debian.org through; this path is not a mirror.
            const mirror = await badApply("bad: unreachable apt mirror", { aptMirror: "http://deb.debian.org/no-such-debian" });
            expect(mirror.message).toMatch(/apt-get update failed \(errors above\): check that workstation\.base\.aptMirror \(http:\/\/deb\.debian\.org\/no-such-debian\)/);
            expect(mirror.failed.map((f) => f.step)).toEqual(["apt-sources"]);
            expect(mirror.failed[0].seconds).toBeLessThanOrEqual(20);
            expect(mirror.destroyError).toBeUndefined();
            for (const h of [ws1, ws2]) expect({ host: h.name, ...treeDiff(bareTree[h.name], await fileTree(tb, h)) }).toEqual({ host: h.name, added: [], removed: [] });
        });
    });

    describe("on ws1 + ws2", () => {
        test("1. bare hosts are provisioned: Slurm runs jobs on both, GPU jobs see their GPU, Prometheus scrapes every node", async () => {
            const r = await apply("first apply", ex);
            if (r.error) throw r.error;
            expect(r.ran.length).toBeGreaterThan(0);
            expect(r.ran.every((c) => c.op === "create")).toBe(true);

            const idle = await waitIdle(tb, ws1, ["ws1", "ws2"]);
            expect(idle).toEqual({ ws1: "idle", ws2: "idle" });
            const hostnames = await tb.sshOk(ws1, "timeout 120 srun -N2 hostname | sort", { timeoutMs: 130_000 });
            expect(hostnames.trim().split("\n")).toEqual(["ws1", "ws2"]);

            for (const node of [ws1, ws2]) {
                const job = await runGpuTemplateJob(tb, ws1, node);
                expect(job.output).toContain(`on ${node.name}: CUDA_VISIBLE_DEVICES=0`);
            }
            // The job's device cgroup lets it open its GPU (ENXIO: no driver
            // behind the node) and nothing else's (EPERM without --gres).
            const withGpu = await tb.ssh(ws1, "timeout 60 srun -w ws2 --gres=gpu:1 head -c1 /dev/fakegpu0 2>&1", { timeoutMs: 70_000 });
            expect(withGpu.stdout).toMatch(/No such device or address/);
            const without = await tb.ssh(ws1, "timeout 60 srun -w ws2 head -c1 /dev/fakegpu0 2>&1", { timeoutMs: 70_000 });
            expect(without.stdout).toMatch(/Operation not permitted/);

            const up = await eventually("prometheus: up == 1 for both node exporters", 120_000, async () => {
                const u = await nodeExportersUp(tb, ws1);
                return Object.keys(u).length === 2 && Object.values(u).every((v) => v === "1") ? u : undefined;
            });
            expect(Object.keys(up).sort()).toEqual(["ws1", "ws2"].map((n) => expect.stringContaining(n)));
            const rules = await tb.sshOk(ws1, "promtool check rules /etc/prometheus/rules/*.yml 2>&1");
            expect(rules).toMatch(/SUCCESS: \d+ rules found/);
        });

        test("2. applying the same config again runs no command", async () => {
            const r = await apply("no-op apply", ex);
            if (r.error) throw r.error;
            expect(r.ran.map((c) => `${c.op} ${c.name}`)).toEqual([]);
        });

        test("3. one partition setting re-runs only the Slurm config step(s), after copying the new slurm.conf, and scontrol shows it", async () => {
            const partitions = [{ ...DEFAULT_PARTITIONS[0], maxTime: "4:00:00" }];
            const r = await apply("one-setting change", ex, { partitions });
            if (r.error) throw r.error;
            expect(r.ran.length).toBeGreaterThan(0);
            // slurm.conf is a stack file (components/steps/copied.ts): a new one is a new copy to each host.
            for (const c of r.ran) expect(`${c.op} ${c.name}`).toMatch(/^(update ws-slurm-\S+-config|(create|update) ws-slurm-\S+-conf-copy)$/);
            expect(r.ran.filter((c) => c.name.endsWith("-config")).map((c) => c.name).sort()).toEqual(["ws-slurm-ws1-config", "ws-slurm-ws2-config"]);
            const part = await tb.sshOk(ws1, "scontrol show partition gpu");
            expect(part).toMatch(/MaxTime=04:00:00/);
            expect(await waitIdle(tb, ws1, ["ws1", "ws2"])).toEqual({ ws1: "idle", ws2: "idle" });
            // And back, so later applies compare against the defaults.
            const back = await apply("one-setting change back", ex);
            if (back.error) throw back.error;
            expect((await tb.sshOk(ws1, "scontrol show partition gpu")).match(/MaxTime=\S+/)?.[0]).toBe("MaxTime=UNLIMITED");
        });

        test("5. destroy leaves neither host with the stack's services, config files or packages: each host's file tree is the one before the first apply", async () => {
            const r = await ex.destroy();
            timings.destroy = r.durationMs;
            log(`destroy: ${summary(r.ran)} in ${r.durationMs} ms`);
            if (r.error) throw r.error;
            expect(r.ran.every((c) => c.op === "delete")).toBe(true);
            expect(Object.keys(ex.state.resources)).toEqual([]);
            for (const h of [ws1, ws2]) {
                const units = await tb.sshOk(h, `for u in ${STACK_SERVICES.join(" ")}; do printf '%s %s\\n' "$u" "$(systemctl is-active "$u" 2>/dev/null || true)"; done`);
                for (const line of units.trim().split("\n")) expect(line).toMatch(/ (inactive|unknown|failed)?$/);
                const pkgs = await tb.ssh(h, `dpkg-query -W -f='\${Package} \${db:Status-Abbrev}\\n' ${STACK_PACKAGES.join(" ")} 2>/dev/null | awk '$2 ~ /^.i/ { print $1 }'`);
                expect({ host: h.name, installed: pkgs.stdout.trim() }).toEqual({ host: h.name, installed: "" });
                const files = await tb.ssh(h, `for f in ${STACK_FILES.join(" ")}; do if test -e "$f"; then find "$f" | head -20; fi; done`);
                expect({ host: h.name, left: files.stdout.trim() }).toEqual({ host: h.name, left: "" });
                // And the whole tree (paths, types, modes, owners) is the one
                // before the first apply, but for TREE_IGNORE.
                const diff = treeDiff(bareTree[h.name], await fileTree(tb, h));
                if (diff.added.length || diff.removed.length) log(`${h.name}: tree differs (ignored: ${TREE_IGNORE.map((i) => i.path).join(" ")}): ${JSON.stringify(diff, null, 1)}`);
                expect({ host: h.name, ...diff }).toEqual({ host: h.name, added: [], removed: [] });
            }
        });

        test("4. SSH cut in the middle of a first apply; the next apply completes and the cluster works", async () => {
            let cut: Promise<void> | undefined;
            let cutDone = false;
            const victim = ws2;
            const fresh = new Executor({
                log: (m) => log(`  ${m}`),
                onCommandStart: (c) => {
                    // Once the long package install on ws2 is under way, kill
                    // every SSH session of the apply on ws2 (by PID, from a
                    // separate session), as a dropped link would.
                    if (cut || c.host !== victim.address || !/-slurm-ws2-packages$/.test(c.name)) return;
                    cut = (async () => {
                        await new Promise((r) => setTimeout(r, 4000));
                        const killed = await tb.sshOk(
                            victim,
                            "me=$(ps -o ppid= -p $$ | tr -d ' '); pids=$(ps -eo pid=,args= | awk -v me=\"$me\" '$2 ~ /^sshd:/ && $3 ~ /@notty/ && $1 != me { print $1 }'); [ -z \"$pids\" ] || kill -9 $pids; echo $pids",
                        );
                        log(`cut: killed sshd sessions on ${victim.name}: ${killed.trim()}`);
                        cutDone = true;
                    })();
                },
            });
            try {
                const first = await apply("cut apply", fresh);
                await cut;
                expect(cutDone).toBe(true);
                expect(first.error).toBeDefined();
                log(`cut apply failed as expected: ${first.error!.message.split("\n")[0]}`);

                const second = await apply("apply after cut", fresh);
                if (second.error) throw second.error;
                expect(await waitIdle(tb, ws1, ["ws1", "ws2"])).toEqual({ ws1: "idle", ws2: "idle" });
                const hostnames = await tb.sshOk(ws1, "timeout 120 srun -N2 hostname | sort", { timeoutMs: 130_000 });
                expect(hostnames.trim().split("\n")).toEqual(["ws1", "ws2"]);
                const job = await runGpuTemplateJob(tb, ws1, ws2);
                expect(job.output).toContain("on ws2: CUDA_VISIBLE_DEVICES=0");
                const third = await apply("no-op after cut", fresh);
                expect(third.ran.map((c) => `${c.op} ${c.name}`)).toEqual([]);
            } finally {
                fresh.dispose();
            }
        });
    });
});
