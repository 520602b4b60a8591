// `npm run plan -- --stack <name> [--format text|markdown|json|mermaid]`:
// what `pulumi up` would create, with no CLI, plugins, credentials or network.
import { runPlanCli } from "./run-cli";

// Exit only once stdout is flushed: a pipe reader (jq, a CI step) would
// otherwise get the plan cut at 64 KiB.
function exit(code: number): void {
    process.stdout.write("", () => process.exit(code));
}

// Anything thrown is a bug in the program, not in the arguments: its stack
// trace, exit 1 (2 is for bad arguments only).
runPlanCli(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then(exit, (err) => {
    // The program runs without stack traces (components/stack-traces.ts): say how to get them.
    process.stderr.write(
        `plan failed (an internal error: please report it with this output; NODE_OPTIONS=--stack-trace-limit=50 adds where it was raised): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    exit(1);
});
