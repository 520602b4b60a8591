// Workstation benchmark (issue 3): the `local` stack's program applied for real
// by the testbed executor to two freshly booted Debian 12 hosts (controller +
// compute, one fake GPU each). Measures bare hosts -> first GPU job, a no-op
// re-apply, and a one-setting change (a partition's MaxTime), with the number
// of commands each ran. Run through tools/bench/workstation.sh (root needed).
import { countOps, Executor, RanCommand } from "../../tests/testbed/executor";
import { bootTestbed } from "../../tests/testbed/hosts";
import { DEFAULT_PARTITIONS, testbedStackConfig } from "../../tests/testbed/stack-config";
import { runGpuTemplateJob, waitIdle } from "../../tests/testbed/cluster";

interface Row {
    what: string;
    seconds: number;
    commands: number | "";
    detail: string;
}

const secs = (ms: number) => Math.round(ms / 100) / 10;
const ops = (ran: RanCommand[]) => {
    const c = countOps(ran);
    return `create ${c.create}, update ${c.update}, delete ${c.delete}`;
};

async function main(): Promise<void> {
    const noopRuns = Number(process.env.NOOP_RUNS ?? "3");
    const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
    const rows: Row[] = [];
    const t0 = Date.now();
    const tb = await bootTestbed({ names: ["ws1", "ws2"], fakeGpus: true, log });
    rows.push({ what: "boot 2 testbed hosts (not part of the target)", seconds: secs(Date.now() - t0), commands: "", detail: "systemd running on both" });
    const [ws1, ws2] = tb.hosts;
    const ex = new Executor({ log: (m) => log(`  ${m}`) });
    try {
        const cfg = (maxTime = "UNLIMITED") => testbedStackConfig(tb, { hosts: [ws1, ws2], partitions: [{ ...DEFAULT_PARTITIONS[0], maxTime }] });
        const apply = async (maxTime?: string) => {
            const { config, secretKeys } = cfg(maxTime);
            const r = await ex.apply(config, secretKeys);
            if (r.error) throw r.error;
            return r;
        };

        const tBare = Date.now();
        const first = await apply();
        const applied = Date.now();
        await waitIdle(tb, ws1, ["ws1", "ws2"]);
        const job = await runGpuTemplateJob(tb, ws1, ws2);
        if (!job.output.includes("CUDA_VISIBLE_DEVICES=0")) throw new Error(`GPU job output: ${job.output}`);
        const firstJob = Date.now();
        rows.push({ what: "first apply (bare hosts -> provisioned)", seconds: secs(applied - tBare), commands: first.ran.length, detail: ops(first.ran) });
        rows.push({
            what: "bare hosts -> first GPU job done (apply + nodes idle + sbatch single-gpu template)",
            seconds: secs(firstJob - tBare),
            commands: first.ran.length,
            detail: job.output.trim().split("\n")[0],
        });

        const noops: number[] = [];
        let noopCommands = 0;
        for (let i = 0; i < noopRuns; i++) {
            const r = await apply();
            noops.push(r.durationMs);
            noopCommands = Math.max(noopCommands, r.ran.length);
        }
        noops.sort((a, b) => a - b);
        rows.push({ what: `no-op re-apply (median of ${noopRuns})`, seconds: secs(noops[Math.floor(noops.length / 2)]), commands: noopCommands, detail: "target: 0 commands" });

        const change = await apply("4:00:00");
        const part = await tb.sshOk(ws1, "scontrol show partition gpu");
        const maxTime = /MaxTime=\S+/.exec(part)?.[0] ?? "?";
        rows.push({
            what: "one-setting change (partition gpu MaxTime UNLIMITED -> 4:00:00)",
            seconds: secs(change.durationMs),
            commands: change.ran.length,
            detail: `${change.ran.map((c) => `${c.op} ${c.name}`).join(", ")}; scontrol: ${maxTime}`,
        });

        const d = await ex.destroy();
        if (d.error) throw d.error;
        rows.push({ what: "destroy", seconds: secs(d.durationMs), commands: d.ran.length, detail: ops(d.ran) });
    } finally {
        ex.dispose();
        await tb.destroy();
    }
    console.log("| measurement | seconds | commands | detail |");
    console.log("| --- | ---: | ---: | --- |");
    for (const r of rows) console.log(`| ${r.what} | ${r.seconds} | ${r.commands} | ${r.detail.replace(/\|/g, "\\|")} |`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
