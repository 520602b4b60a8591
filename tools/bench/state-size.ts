// State size benchmark (issue 17): the `local` stack applied for real by the
// testbed executor to 1, 2 and 4 freshly booted Debian 12 hosts (the testbed's
// stack: base system, Slurm, monitoring), then the size of its state file
// (every resource's inputs and outputs, as Pulumi's state keeps them) per host.
// Run through tools/bench/state-size.sh (root needed). Prints a Markdown table.
// `--agent`: the same with workstation.sshAuth 'agent' (no key in any connection).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Executor } from "../../tests/testbed/executor";
import { PlannedResource, reveal, SECRET_SIG, SIG_KEY } from "../plan/recorder";
import { bootTestbed } from "../../tests/testbed/hosts";
import { testbedStackConfig } from "../../tests/testbed/stack-config";
import { startSshAgent } from "../../tests/testbed/agent";

/**
 * What encryption adds to the state: the executor keeps secrets in clear, Pulumi
 * as `{SIG_KEY: SECRET_SIG, ciphertext: "v1:<nonce>:<AES-GCM>"}` (the passphrase
 * provider: a 12-byte nonce and a 16-byte tag, base64). Counted: each secret of
 * the program's wire-form inputs, and the whole `connection` of a remote
 * command or copy, which the command provider's schema marks secret (inputs
 * and outputs), whatever it holds: with the agent too. A command's values are
 * counted twice (the command provider returns its inputs as outputs).
 */
function encryptionOverhead(resources: PlannedResource[]): number {
    const b64 = (n: number) => 4 * Math.ceil(n / 3);
    /** Stored size minus the size of the clear value as the executor keeps it. */
    const added = (value: unknown): number => {
        const clear = JSON.stringify(value ?? null);
        const stored = JSON.stringify({ [SIG_KEY]: SECRET_SIG, ciphertext: `v1:${"n".repeat(b64(12))}:${"c".repeat(b64(Buffer.byteLength(clear) + 16))}` });
        return stored.length - clear.length;
    };
    let extra = 0;
    const walk = (v: unknown, copies: number): void => {
        if (v === null || typeof v !== "object") return;
        const o = v as Record<string, unknown>;
        if (o[SIG_KEY] === SECRET_SIG) {
            extra += copies * added(reveal(o.value));
            return;
        }
        for (const x of Object.values(o)) walk(x, copies);
    };
    for (const r of resources) {
        const copies = r.type.startsWith("command:") ? 2 : 1;
        const { connection, ...rest } = r.inputs as Record<string, unknown>;
        if (connection !== undefined && r.type.startsWith("command:remote:")) extra += copies * added(reveal(connection));
        else if (connection !== undefined) walk(connection, copies);
        walk(rest, copies);
    }
    return extra;
}

async function main(): Promise<void> {
    // --agent: workstation.sshAuth 'agent' (no key in the state), through an ssh-agent of the bench's own.
    const agentMode = process.argv.includes("--agent");
    const args = process.argv.slice(2).filter((a) => a !== "--agent");
    const sizes = (args.length ? args : ["1", "2", "4"]).map(Number);
    const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
    const rows: string[] = [];
    const points: [number, number, number][] = [];
    const breakdown: string[] = [];
    for (const n of sizes) {
        const names = Array.from({ length: n }, (_, i) => `ws${i + 1}`);
        const tb = await bootTestbed({ names, fakeGpus: true, log });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-state-"));
        const stateFile = path.join(dir, "state.json");
        const ex = new Executor({ stateFile, log: (m) => log(`  ${m}`) });
        const agent = agentMode ? await startSshAgent(dir, "agent", [tb.privateKeyPath]) : undefined;
        if (agent) process.env.SSH_AUTH_SOCK = agent.socket;
        try {
            const { config, secretKeys } = testbedStackConfig(tb, { hosts: tb.hosts, sshAgent: agentMode });
            const t0 = Date.now();
            const r = await ex.apply(config, secretKeys);
            if (r.error) throw r.error;
            const seconds = (Date.now() - t0) / 1000;
            // The executor writes its state pretty-printed; count it as Pulumi would write it (compact JSON).
            const compact = JSON.stringify(JSON.parse(fs.readFileSync(stateFile, "utf8"))).length;
            const encrypted = compact + encryptionOverhead(r.resources);
            const resources = Object.keys(ex.state.resources).length;
            const biggest = Object.values(ex.state.resources)
                .map((e) => ({ name: e.name, size: JSON.stringify(e).length }))
                .sort((a, b) => b.size - a.size)[0];
            rows.push(
                `| ${n} | ${resources} | ${r.ran.length} | ${seconds.toFixed(1)} | ${(compact / 1024).toFixed(1)} | ${(compact / n / 1024).toFixed(1)} | ${(encrypted / n / 1024).toFixed(1)} | ${biggest.name} (${(biggest.size / 1024).toFixed(1)} KB) |`,
            );
            points.push([n, compact, encrypted]);
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
            agent?.stop();
            ex.dispose();
            fs.rmSync(dir, { recursive: true, force: true });
            await tb.destroy();
        }
    }
    console.log(`SSH authentication: ${agentMode ? "workstation.sshAuth agent (no key in the state)" : "aihpc:sshPrivateKey (ed25519)"}\n`);
    console.log("| hosts | resources | commands | first apply (s) | state (KB) | state per host (KB) | with secrets encrypted, per host (KB) | largest resource |");
    console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for (const r of rows) console.log(r);
    if (points.length >= 2) {
        const [a, b] = [points[0], points[points.length - 1]];
        for (const [i, what] of [[1, "as kept"], [2, "with secrets encrypted"]] as const) {
            const perHost = (b[i] - a[i]) / (b[0] - a[0]);
            console.log(`\nslope, ${what}: ${(perHost / 1024).toFixed(1)} KB of state per added host; fixed part ${((a[i] - perHost * a[0]) / 1024).toFixed(1)} KB; 64 hosts extrapolated: ${((a[i] + perHost * (64 - a[0])) / 1024 / 1024).toFixed(2)} MB`);
        }
    }
    for (const b of breakdown) console.log(`- ${b}`);
    console.log(`machine: ${os.cpus().length} cores, node ${process.version}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
