// State size benchmark (issue 17): the `local` stack applied for real by the
// testbed executor to 1, 2 and 4 freshly booted Debian 12 hosts (the testbed's
// stack: base system, Slurm, monitoring), then the size of its state file
// (every resource's inputs and outputs, as Pulumi's state keeps them) per host.
// Run through tools/bench/state-size.sh (root needed). Prints a Markdown table.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Executor } from "../../tests/testbed/executor";
import { bootTestbed } from "../../tests/testbed/hosts";
import { testbedStackConfig } from "../../tests/testbed/stack-config";

async function main(): Promise<void> {
    const sizes = (process.argv.slice(2).length ? process.argv.slice(2) : ["1", "2", "4"]).map(Number);
    const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
    const rows: string[] = [];
    const points: [number, number][] = [];
    const breakdown: string[] = [];
    for (const n of sizes) {
        const names = Array.from({ length: n }, (_, i) => `ws${i + 1}`);
        const tb = await bootTestbed({ names, fakeGpus: true, log });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-state-"));
        const stateFile = path.join(dir, "state.json");
        const ex = new Executor({ stateFile, log: (m) => log(`  ${m}`) });
        try {
            const { config, secretKeys } = testbedStackConfig(tb, { hosts: tb.hosts });
            const t0 = Date.now();
            const r = await ex.apply(config, secretKeys);
            if (r.error) throw r.error;
            const seconds = (Date.now() - t0) / 1000;
            // The executor writes its state pretty-printed; count it as Pulumi would write it (compact JSON).
            const compact = JSON.stringify(JSON.parse(fs.readFileSync(stateFile, "utf8"))).length;
            const resources = Object.keys(ex.state.resources).length;
            const biggest = Object.values(ex.state.resources)
                .map((e) => ({ name: e.name, size: JSON.stringify(e).length }))
                .sort((a, b) => b.size - a.size)[0];
            rows.push(`| ${n} | ${resources} | ${r.ran.length} | ${seconds.toFixed(1)} | ${(compact / 1024).toFixed(1)} | ${(compact / n / 1024).toFixed(1)} | ${biggest.name} (${(biggest.size / 1024).toFixed(1)} KB) |`);
            points.push([n, compact]);
            // Where the bytes are: connections (key material, encrypted in Pulumi's state), commands, program output.
            const part = { connection: 0, commands: 0, stdin: 0, output: 0, other: 0 };
            for (const e of Object.values(ex.state.resources)) {
                for (const side of [e.inputs, e.outputs] as Record<string, unknown>[]) {
                    for (const [k, v] of Object.entries(side ?? {})) {
                        const len = JSON.stringify(v ?? null).length;
                        if (k === "connection") part.connection += len;
                        else if (k === "create" || k === "update" || k === "delete") part.commands += len;
                        else if (k === "stdin") part.stdin += len;
                        else if (k === "stdout" || k === "stderr") part.output += len;
                        else part.other += len;
                    }
                }
            }
            breakdown.push(`${n} host(s), KB per host: ${Object.entries(part).map(([k, v]) => `${k} ${(v / n / 1024).toFixed(1)}`).join(", ")}`);
            const d = await ex.destroy();
            if (d.error) throw d.error;
        } finally {
            ex.dispose();
            fs.rmSync(dir, { recursive: true, force: true });
            await tb.destroy();
        }
    }
    console.log("| hosts | resources | commands | first apply (s) | state (KB) | state per host (KB) | largest resource |");
    console.log("| ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for (const r of rows) console.log(r);
    if (points.length >= 2) {
        const [a, b] = [points[0], points[points.length - 1]];
        const perHost = (b[1] - a[1]) / (b[0] - a[0]);
        console.log(`\nslope: ${(perHost / 1024).toFixed(1)} KB of state per added host; fixed part ${((a[1] - perHost * a[0]) / 1024).toFixed(1)} KB; 64 hosts extrapolated: ${((a[1] + perHost * (64 - a[0])) / 1024 / 1024).toFixed(2)} MB`);
    }
    for (const b of breakdown) console.log(`- ${b}`);
    console.log(`machine: ${os.cpus().length} cores, node ${process.version}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
