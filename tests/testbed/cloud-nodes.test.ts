// Issue 15, item 5: the cloud partition on real hosts, without Google Cloud.
// The `gcp` stack's program, with gcp.cloudNodes on and its `testbed` backend,
// is applied through the executor to a booted controller (ws1); Google Cloud's
// resources get the plan's mock values. The power-save programs Slurm runs are
// the production ones; their `testbed` backend sends Compute Engine's requests
// to the stand-in compute API (compute-api.ts), which boots a test host per
// instance. That host runs the template's own startup script (the node
// bootstrap), which installs Slurm from Debian, reads the munge key from the
// stand-in Secret Manager with its instance token and joins the controller
// in configless mode.
//
// Not proven here (see the README's "Cloud partition" section): the GCE API's
// real behaviour (only its documented shapes, in the stand-in and the unit
// tests), the NVIDIA driver on a node (the stand-in's metadata says aihpc-gpu
// 0; the node's GPU is a fake /dev/nvidia0), and the tunnel (the test hosts
// share the testbed bridge).
import * as fs from "fs";
import { bootTestbed, STATE_ROOT, Testbed, TestHost } from "./hosts";
import { Executor, opsSummary, StateEntry } from "./executor";
import { testbedStackConfig } from "./stack-config";
import { eventually } from "./cluster";
import { ComputeApi, COMPUTE_API_URL, stackSecrets, stackTemplates, stateEntries } from "./compute-api";
import { toCliConfig } from "../helpers/harness";

jest.setTimeout(2_400_000);

const log = (m: string) => process.stdout.write(`[cloud-nodes ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const PROJECT = "test-project-1";
const STACK = "testbed";
const ZONES = ["europe-west4-a", "europe-west4-b"];
const PREFIX = `aihpc-${STACK}-cn-`;
const NODES = [`${PREFIX}1`, `${PREFIX}2`];
const SUSPEND_TIME = 60;
const BACKOFF = 60;
const STATE_DIR = "/var/lib/aihpc/cloud-nodes";
const METRICS = "/var/lib/prometheus/node-exporter/aihpc_cloud_nodes.prom";
const TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";
const TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate";

function stackConfig(tb: Testbed, ws1: TestHost): { config: Record<string, string>; secretKeys: string[] } {
    // No monitoring (the reconciler's metric file is read directly), to keep the file fast.
    const { config, secretKeys } = testbedStackConfig(tb, { hosts: [ws1], monitoring: false });
    const extra = toCliConfig({
        gcp: {
            project: PROJECT,
            region: "europe-west4",
            budget: { billingAccount: "012345-6789AB-CDEF01", amount: 100 },
            hybrid: { gcloudCli: { install: false }, image: { enabled: false } },
            cloudNodes: {
                enabled: true,
                partition: "cloud",
                maxNodes: 2,
                // The smallest GPU shape: a test host (2 CPUs) has at least what Slurm's node line promises.
                machineType: "n1-standard-1",
                gpu: { type: "NVIDIA_TESLA_T4", count: 1 },
                zones: ZONES,
                suspendTime: SUSPEND_TIME,
                resumeTimeout: 300,
                resumeFailBackoff: BACKOFF,
                // No tunnel in this file (tunnel.test.ts proves it): the nodes reach the controller on the bridge.
                tunnel: { enabled: false },
                tunnelCidr: "10.213.0.0/24",
                controllerAddress: ws1.address,
                backend: "testbed",
                testbedApi: COMPUTE_API_URL,
            },
        },
    });
    return { config: { ...config, ...extra.config }, secretKeys };
}

/** `scontrol show node` of the cloud nodes: name -> { state, reason }. */
async function cloudNodes(tb: Testbed, ws1: TestHost): Promise<Record<string, { state: string; reason: string }>> {
    const out = await tb.sshOk(ws1, `scontrol -o show node ${NODES.join(",")}`);
    const res: Record<string, { state: string; reason: string }> = {};
    for (const line of out.split("\n").filter(Boolean)) {
        const name = /NodeName=(\S+)/.exec(line)?.[1] ?? "";
        res[name] = { state: /\bState=(\S+)/.exec(line)?.[1] ?? "", reason: /\bReason=(.*?)(?: \[|$)/.exec(line)?.[1] ?? "" };
    }
    return res;
}

async function jobState(tb: Testbed, ws1: TestHost, id: string): Promise<{ state: string; nodes: string; exit: string; reason: string }> {
    const out = await tb.sshOk(ws1, `scontrol -o show job ${id}`);
    const f = (k: string) => new RegExp(`\\b${k}=(\\S+)`).exec(out)?.[1] ?? "";
    return { state: f("JobState"), nodes: f("NodeList"), exit: f("ExitCode"), reason: f("Reason") };
}

describe("cloud partition with the testbed backend (issue 15, item 5)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ex: Executor;
    let api: ComputeApi;
    const t: Record<string, number> = {};
    const mark = (k: string, t0: number) => {
        t[k] = Math.round((Date.now() - t0) / 1000);
        log(`${k}: ${t[k]} s`);
    };
    const entries = (type: string): StateEntry[] => stateEntries(ex, type);
    const controllerLog = async () => (await tb.ssh(ws1, "tail -n 40 /var/log/slurm/slurmctld.log; journalctl -u aihpc-cloud-reconcile --no-pager -n 20")).stdout;

    beforeAll(async () => {
        const t0 = Date.now();
        tb = await bootTestbed({ names: ["ws1"], fakeGpus: true, log });
        [ws1] = tb.hosts;
        ex = new Executor({ stack: STACK, project: "aihpc", log: (m) => log(`  ${m}`) });
        api = new ComputeApi({
            tb,
            project: PROJECT,
            templates: () => stackTemplates(ex),
            secrets: () => stackSecrets(ex),
            // Test hosts have no GPU and no driver to install: the bootstrap's driver branch is off, and
            // the node's gres.conf file is a fake device node.
            metadataOverrides: { "aihpc-gpu": "0" },
            fakeGpuFiles: ["/dev/nvidia0"],
            log,
        });
        await api.start();
        mark("boot the controller host and start the stand-in API", t0);
    });

    afterAll(async () => {
        log(`timings (s): ${JSON.stringify(t)}`);
        await api?.stop();
        ex?.dispose();
        await tb?.destroy();
    });

    test("1. apply: the cloud partition's nodes are known to Slurm, powered down, with the testbed backend", async () => {
        const t0 = Date.now();
        const { config, secretKeys } = stackConfig(tb, ws1);
        const r = await ex.apply(config, secretKeys);
        mark("first apply", t0);
        log(`first apply: ${opsSummary(r.ran)}${r.error ? ` -- failed: ${r.error.message.slice(0, 3000)}` : ""}`);
        if (r.error) throw r.error;
        expect(r.ran.map((c) => c.name)).toContain("hybrid-cloud-nodes-ws1");
        const settings = JSON.parse(await tb.sshOk(ws1, "cat /etc/aihpc/cloud-nodes.json"));
        expect(settings).toMatchObject({ backend: "testbed", testbedApi: COMPUTE_API_URL, zones: ZONES, nodePrefix: PREFIX, partition: "cloud", backoffSeconds: BACKOFF });
        expect(Object.keys(api.templates())).toEqual([settings.template]);
        const nodes = await cloudNodes(tb, ws1);
        expect(Object.keys(nodes).sort()).toEqual(NODES);
        for (const n of NODES) expect(nodes[n].state.split("+")).toEqual(expect.arrayContaining(["IDLE", "CLOUD", "POWERED_DOWN"]));
        expect((await tb.sshOk(ws1, "systemctl is-enabled aihpc-cloud-reconcile.timer")).trim()).toBe("enabled");
        // slurmctld runs with power saving on: no "power_save module disabled" since it last started.
        const since = await tb.sshOk(ws1, "awk '/slurmctld version .* started/ { n = NR; d = 0 } /power_save module disabled/ { d = NR } END { print n, d }' /var/log/slurm/slurmctld.log");
        expect(since.trim()).toMatch(/^\d+ 0$/);
        expect(api.running()).toEqual([]);
    });

    let firstNode = "";

    test("2. a job sent to the cloud partition resumes a node: quota in the first zone, created in the next; the host runs the node bootstrap and the job", async () => {
        const t0 = Date.now();
        api.failures.set(ZONES[0], { kind: "quota" });
        const id = (await tb.sshOk(ws1, "sbatch -p cloud --gres=gpu:1 --parsable --output=/tmp/cloud-%j.out --wrap 'echo ran on $(hostname) gpu=$CUDA_VISIBLE_DEVICES; cat /etc/machine-id'")).trim();
        const done = await eventually("the cloud job completes", 420_000, async () => {
            const j = await jobState(tb, ws1, id);
            if (["FAILED", "CANCELLED", "NODE_FAIL", "BOOT_FAIL", "TIMEOUT"].includes(j.state)) throw new Error(`job ${id}: ${JSON.stringify(j)}\n${await controllerLog()}`);
            return j.state === "COMPLETED" ? j : undefined;
        });
        mark("job on a resumed cloud node (boot + bootstrap + job)", t0);
        expect(done.exit).toBe("0:0");
        firstNode = done.nodes;
        expect(NODES).toContain(firstNode);
        // The production programs asked the stand-in: the first zone refused (quota), the second created it.
        const mine = api.events.filter((e) => e.name === firstNode);
        expect(mine.slice(0, 2).map((e) => [e.op, e.zone, e.detail])).toEqual([
            ["insert-failed", ZONES[0], "quotaExceeded"],
            ["insert", ZONES[1], undefined],
        ]);
        expect(api.requests.filter((q) => q.path.startsWith("/compute/")).every((q) => !q.authorization)).toBe(true);
        const inst = api.instances.get(firstNode)!;
        expect(inst.zone).toBe(ZONES[1]);
        const node = inst.host!;
        // The job ran on the booted host.
        const out = await tb.sshOk(node, `cat /tmp/cloud-${id}.out`);
        expect(out.split("\n")[0]).toBe(`ran on ${firstNode} gpu=0`);
        expect(out.split("\n")[1]).toBe((await tb.sshOk(node, "cat /etc/machine-id")).trim());
        // The node bootstrap: Debian's Slurm (the controller's version), the cluster's munge key from the
        // stand-in Secret Manager, slurmd configless against the controller.
        expect((await tb.sshOk(node, "sha256sum < /etc/munge/munge.key")).trim()).toBe((await tb.sshOk(ws1, "sha256sum < /etc/munge/munge.key")).trim());
        expect((await tb.sshOk(node, "stat -c '%a %U' /etc/munge/munge.key")).trim()).toBe("400 munge");
        expect((await tb.sshOk(node, "dpkg-query -W -f='${Version}' slurmd")).trim()).toBe((await tb.sshOk(ws1, "dpkg-query -W -f='${Version}' slurmctld")).trim());
        expect((await tb.ssh(node, "test -e /etc/slurm/slurm.conf")).code).not.toBe(0);
        expect(await tb.sshOk(node, "cat /etc/default/slurmd")).toContain(`--conf-server ${ws1.address}:6817`);
        expect((await tb.sshOk(node, "systemctl is-active slurmd munge")).trim().split("\n")).toEqual(["active", "active"]);
        expect(await tb.sshOk(node, "journalctl -u testbed-startup-script --no-pager")).toContain("aihpc-cloud-node: slurmd started against");
    });

    test("3. after SuspendTime the node is suspended: its instance and host are gone", async () => {
        const t0 = Date.now();
        const host = api.instances.get(firstNode)!.host!;
        await eventually("the idle cloud node is suspended", 300_000, async () => {
            const n = (await cloudNodes(tb, ws1))[firstNode];
            return n.state.includes("POWER") && !api.instances.has(firstNode) ? n : undefined;
        });
        mark("suspend after the job", t0);
        expect(api.events.filter((e) => e.name === firstNode && e.op === "delete").map((e) => e.zone)).toEqual([ZONES[1]]);
        // The host is really gone: no process, no overlay, no state record.
        expect(fs.existsSync(host.rootDir)).toBe(false);
        const runState = JSON.parse(fs.readFileSync(`${STATE_ROOT}/run-${tb.runId}.json`, "utf8"));
        expect(runState.hosts.map((h: { name: string }) => h.name)).toEqual(["ws1"]);
        expect((await tb.ssh(ws1, `timeout 3 bash -c '</dev/tcp/${host.address}/22'`)).code).not.toBe(0);
    });

    let jobId = "";

    test("4. a resume that fails in every zone marks the node DOWN with the cloud's reason and does not loop", async () => {
        const t0 = Date.now();
        api.failures.set(ZONES[0], { kind: "stockout" });
        api.failures.set(ZONES[1], { kind: "quota" });
        const before = api.events.length;
        jobId = (await tb.sshOk(ws1, "sbatch -p cloud --parsable --output=/dev/null --wrap 'sleep 900'")).trim();
        const down = await eventually("a cloud node DOWN after a failed resume", 180_000, async () => {
            const nodes = await cloudNodes(tb, ws1);
            const d = Object.entries(nodes).filter(([, n]) => n.state.startsWith("DOWN"));
            return d.length ? d : undefined;
        });
        mark("failed resume to DOWN", t0);
        const [name, n] = down[0];
        expect(n.reason).toMatch(/^aihpc-cloud: resume failed, back-off until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: europe-west4-a: ZONE_RESOURCE_POOL_EXHAUSTED; europe-west4-b: quotaExceeded$/);
        // The failure, the cloud's full messages and the back-off are recorded (SlurmUser's state).
        const s = JSON.parse(await tb.sshOk(ws1, `cat ${STATE_DIR}/${name}.json`));
        expect(s.failures).toBe(1);
        expect(s.lastError).toMatch(/^europe-west4-a: ZONE_RESOURCE_POOL_EXHAUSTED: The zone '.*' does not have enough resources available to fulfill the request\. {2}Try a different zone, or try again later\.; europe-west4-b: quotaExceeded: Quota 'NVIDIA_T4_GPUS' exceeded\./);
        // No loop: while the back-off lasts, each node was tried once per zone, never again.
        await new Promise((r) => setTimeout(r, 25_000));
        const attempts = api.events.slice(before).filter((e) => e.op === "insert-failed");
        log(`attempts during the back-off: ${JSON.stringify(attempts.map((e) => [e.name, e.zone]))}`);
        for (const node of NODES) expect(attempts.filter((e) => e.name === node).length).toBeLessThanOrEqual(ZONES.length);
        expect(api.running()).toEqual([]);
        expect((await jobState(tb, ws1, jobId)).state).toBe("PENDING");
    });

    test("5. the reconciler deletes an orphan it is shown, reports it in its metric, and keeps nodes in back-off DOWN", async () => {
        const t0 = Date.now();
        const orphan = `${PREFIX}9`;
        // The node exporter's textfile directory as its package leaves it (root's here: monitoring is off in this file),
        // where SlurmUser cannot write: the reconciler unit publishes its metrics there as root.
        await tb.sshOk(ws1, `install -d -m 0755 ${TEXTFILE_DIR}`);
        // The run below is the one under test: the timer's own (2 min after boot, then every 5) could take the orphan
        // while it is still provisioning, before the test has seen it run. Back on at the end.
        await tb.sshOk(ws1, "systemctl stop aihpc-cloud-reconcile.timer");
        const inst = await api.bootOrphan(orphan, ZONES[0], 3600);
        const orphanRoot = inst.host!.rootDir;
        expect(api.running()).toEqual([orphan]);
        await tb.sshOk(ws1, "systemctl start aihpc-cloud-reconcile.service", { timeoutMs: 180_000 });
        mark("reconciler with an orphan", t0);
        // The reconciler sends the delete; the instance goes when its operation ends (as in Compute Engine).
        await eventually("the orphan's instance is gone", 60_000, async () => (api.instances.has(orphan) ? undefined : true));
        expect(fs.existsSync(orphanRoot)).toBe(false);
        const runHosts = JSON.parse(fs.readFileSync(`${STATE_ROOT}/run-${tb.runId}.json`, "utf8")).hosts.map((h: { name: string }) => h.name);
        expect(runHosts).not.toContain(orphan);
        expect(api.events.filter((e) => e.name === orphan).map((e) => [e.op, e.zone])).toEqual([["delete", ZONES[0]]]);
        const metrics = await tb.sshOk(ws1, `cat ${METRICS}`);
        expect(metrics).toMatch(/^aihpc_cloud_nodes_orphans_deleted_total 1$/m);
        expect(metrics).toMatch(/^aihpc_cloud_nodes_reconcile_errors 0$/m);
        expect(await tb.sshOk(ws1, "journalctl -u aihpc-cloud-reconcile --no-pager")).toContain(`${orphan} (${ZONES[0]}): orphan (unknown to Slurm), deleted`);
        // A node whose back-off has not ended stays DOWN.
        const now = Number((await tb.sshOk(ws1, "date +%s")).trim());
        for (const [name, n] of Object.entries(await cloudNodes(tb, ws1))) {
            if (!n.state.startsWith("DOWN")) continue;
            const s = JSON.parse(await tb.sshOk(ws1, `cat ${STATE_DIR}/${name}.json`));
            if (s.backoffUntil > now + 5) expect(metrics).toMatch(/^aihpc_cloud_nodes_backoff [12]$/m);
        }
        await tb.sshOk(ws1, "systemctl start aihpc-cloud-reconcile.timer");
    });

    test("6. after the back-off the reconciler returns the nodes, and the waiting job gets a cloud node", async () => {
        const t0 = Date.now();
        api.failures.clear();
        const until = Math.max(
            ...(await Promise.all(NODES.map(async (n) => JSON.parse((await tb.ssh(ws1, `cat ${STATE_DIR}/${n}.json`)).stdout || "{}").backoffUntil ?? 0))),
        );
        const now = Number((await tb.sshOk(ws1, "date +%s")).trim());
        if (until > now) await new Promise((r) => setTimeout(r, (until - now + 2) * 1000));
        await tb.sshOk(ws1, "systemctl start aihpc-cloud-reconcile.service", { timeoutMs: 180_000 });
        expect(await tb.sshOk(ws1, "journalctl -u aihpc-cloud-reconcile --no-pager")).toMatch(/back-off over, returned to service/);
        const running = await eventually("the waiting job runs on a cloud node", 420_000, async () => {
            const j = await jobState(tb, ws1, jobId);
            if (j.state !== "RUNNING") throw new Error(`job ${JSON.stringify(j)}; nodes ${JSON.stringify(await cloudNodes(tb, ws1))}\n${await controllerLog()}`);
            return j;
        });
        mark("back-off, return and a new node for the waiting job", t0);
        expect(NODES).toContain(running.nodes);
        expect(api.running()).toEqual([running.nodes]);
    });

    test("7. destroy drains the partition and deletes every cloud host before the template, identities and network", async () => {
        const t0 = Date.now();
        const templateLeft: boolean[] = [];
        api.onDelete = () => templateLeft.push(entries(TEMPLATE).length === 1 && entries("gcp:compute/network:Network").length === 1);
        const r = await ex.destroy();
        mark("destroy", t0);
        log(`destroy: ${opsSummary(r.ran)}${r.error ? ` -- failed: ${r.error.message.slice(0, 2000)}` : ""}`);
        if (r.error) throw r.error;
        const del = r.ran.find((c) => c.name === "hybrid-cloud-nodes-ws1")!;
        expect(del.op).toBe("delete");
        expect(del.stdout + del.stderr).toContain("drained partition cloud");
        expect(templateLeft.length).toBeGreaterThanOrEqual(1);
        expect(templateLeft.every(Boolean)).toBe(true);
        expect(api.instances.size).toBe(0);
        expect(Object.keys(ex.state.resources)).toEqual([]);
        const runState = JSON.parse(fs.readFileSync(`${STATE_ROOT}/run-${tb.runId}.json`, "utf8"));
        expect(runState.hosts.map((h: { name: string }) => h.name)).toEqual(["ws1"]);
    });
});
