// Checks of a provisioned workstation cluster on testbed hosts, shared by the
// testbed tests and the benchmark.
import { Testbed, TestHost } from "./hosts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a value, or throw the last reason after `ms`. */
export async function eventually<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + ms;
    let last: unknown = "no attempt";
    for (;;) {
        try {
            const v = await fn();
            if (v !== undefined) return v;
            last = "not yet";
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) throw new Error(`${what}: gave up after ${ms} ms: ${last instanceof Error ? last.message : String(last)}`);
        await sleep(1000);
    }
}

/** `sinfo` per node: name -> state (idle, mix, down...). */
export async function sinfo(tb: Testbed, controller: TestHost): Promise<Record<string, string>> {
    const out = await tb.sshOk(controller, "sinfo -h -N -o '%N %t'");
    return Object.fromEntries(
        out
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => l.trim().split(/\s+/) as [string, string]),
    );
}

/** Wait until every node is idle. */
export async function waitIdle(tb: Testbed, controller: TestHost, nodes: string[], ms = 90_000): Promise<Record<string, string>> {
    return eventually("sinfo: all nodes idle", ms, async () => {
        const s = await sinfo(tb, controller);
        return nodes.every((n) => s[n] === "idle") ? s : undefined;
    });
}

export const JOB_TEMPLATES = "/usr/local/share/aihpc/jobs";

/** Submit the installed single-GPU template to `node` and wait; returns its output. */
export async function runGpuTemplateJob(tb: Testbed, controller: TestHost, node: TestHost): Promise<{ jobId: string; output: string }> {
    const jobId = (
        await tb.sshOk(
            controller,
            `cd /tmp && timeout 300 sbatch --wait --parsable -w ${node.name} --output=/tmp/aihpc-testbed-%j.out ${JOB_TEMPLATES}/single-gpu.sbatch`,
            { timeoutMs: 320_000 },
        )
    ).trim();
    const output = await tb.sshOk(node, `cat /tmp/aihpc-testbed-${jobId}.out`);
    return { jobId, output };
}

/** Prometheus's `up` series for job "node": instance -> value (Prometheus listens on the controller's cluster address). */
export async function nodeExportersUp(tb: Testbed, controller: TestHost, port = 9090): Promise<Record<string, string>> {
    const out = await tb.sshOk(controller, `curl -fsS --get --data-urlencode 'query=up{job="node"}' http://${controller.address}:${port}/api/v1/query`);
    const body = JSON.parse(out) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== "success") throw new Error(`prometheus: ${out}`);
    return Object.fromEntries(body.data.result.map((r) => [r.metric.instance, r.value[1]]));
}
