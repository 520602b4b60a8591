// Issue 12 on a booted host: components wait only for what they use, so a
// failure in one leaves the others applied. The ML runtime's pip install is
// pointed at an index that refuses connections; with the engine's
// `--continue-on-error` (the executor's `continueOnError`) Slurm and
// monitoring, which do not depend on it, are applied and work; the venv step
// fails with pip's message and nothing that runs PyTorch is attempted. Then
// switching the ML runtime off runs its teardown alone, and destroy cleans up.
// (PyPI is out of the testbed's reach, so no test installs torch here.)
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { ApplyResult, Executor, opsSummary } from "./executor";
import { testbedStackConfig, TestbedStackOptions } from "./stack-config";
import { eventually } from "./cluster";

jest.setTimeout(1_800_000);
const log = (m: string) => process.stdout.write(`[independence ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

describe("a failure in one component leaves the independent ones applied (issue 12)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ex: Executor;
    const cfg = (o: Partial<TestbedStackOptions>) => testbedStackConfig(tb, { hosts: [ws1], ...o });
    const apply = async (label: string, o: Partial<TestbedStackOptions>, continueOnError = false): Promise<ApplyResult> => {
        const { config, secretKeys } = cfg(o);
        const r = await ex.apply(config, secretKeys, { continueOnError });
        log(`${label}: ${opsSummary(r.ran)} in ${r.durationMs} ms${r.error ? ` -- failed: ${r.error.message.split("\n")[0]}` : ""}`);
        return r;
    };
    // Nothing listens on port 9 of the testbed's gateway: pip's connection is refused at once.
    const refusedIndex = { mlRuntime: { enabled: true, jupyterKernel: false, indexUrl: "http://10.213.0.1:9/simple" }, httpRepositoryHosts: ["deb.debian.org", "10.213.0.1"] };

    beforeAll(async () => {
        tb = await bootTestbed({ names: ["ws1"], fakeGpus: true, log });
        [ws1] = tb.hosts;
        ex = new Executor({ log: (m) => log(`  ${m}`) });
    });
    afterAll(async () => {
        ex?.dispose();
        await tb?.destroy();
    });

    test("the ML runtime's pip install fails; Slurm and monitoring are applied anyway and work", async () => {
        const r = await apply("apply with a refused index, continuing on error", refusedIndex, true);
        expect(r.error?.message).toMatch(/ws-ml-ws1-venv|Connection refused|index/i);
        const step = (n: string) => r.steps.find((s) => s.name === n)?.step;
        expect(step("ws-ml-ws1-venv")).toBe("failed");
        for (const n of ["ws-slurm-ws1-config", "ws-slurm-ws1-jobs", "ws-monitoring-ws1-node-exporter", "ws-monitoring-ws1-prometheus", "ws-monitoring-ws1-slurm-metrics"]) {
            expect([n, step(n)]).toEqual([n, "create"]);
        }
        // Slurm schedules: a job runs on the node.
        const out = await tb.sshOk(ws1, "srun -N1 -t 1 hostname");
        expect(out.trim()).toBe("ws1");
        // Prometheus listens on the cluster address (monitoring behind the cluster's network).
        await eventually("Prometheus scrapes the node exporter", 60_000, async () => {
            const up = await tb.sshOk(ws1, `curl -sf 'http://${ws1.address}:9090/api/v1/query?query=up' | jq -r '.data.result | length'`);
            return Number(up.trim()) > 0 ? true : undefined;
        });
    });

    test("the ML runtime switched off: only its steps run (their teardown); the rest is unchanged", async () => {
        const r = await apply("apply without the ML runtime", {});
        expect(r.error).toBeUndefined();
        const touched = r.ran.map((c) => c.name);
        expect(touched.length).toBeGreaterThan(0);
        expect(touched.filter((n) => !/^ws-ml-ws1-/.test(n))).toEqual([]);
        expect((await tb.ssh(ws1, "test -e /opt/aihpc/ml")).code).not.toBe(0);
    });

    test("destroy removes everything", async () => {
        const r = await ex.destroy();
        expect(r.error).toBeUndefined();
        expect((await tb.ssh(ws1, "command -v slurmctld; ls /opt/aihpc/ml 2>&1")).stdout).not.toMatch(/slurmctld|bin/);
    });
});
