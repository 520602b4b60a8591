// `npm run plan -- --stack <name> [--format text|markdown|json|mermaid]`:
// what `pulumi up` would create, with no CLI, plugins, credentials or network.
import * as path from "path";
import { parseArgs } from "util";
import { formats, Format, isConfigError, planStack, render, StackFileError } from "./index";

const USAGE = "usage: npm run plan -- [--stack local] [--format text|markdown|json|mermaid] [--dir PROJECT_DIR] [--policy-config FILE]";

async function main(): Promise<number> {
    let values: { stack?: string; format?: string; dir?: string; "policy-config"?: string; help?: boolean };
    try {
        ({ values } = parseArgs({
            options: { stack: { type: "string", short: "s", default: "local" }, format: { type: "string", short: "f", default: "text" }, dir: { type: "string" }, "policy-config": { type: "string" }, help: { type: "boolean", short: "h" } },
        }));
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const format = values.format as Format;
    if (!(format in formats)) {
        process.stderr.write(`unknown --format '${values.format}': expected one of ${Object.keys(formats).join(", ")}\n`);
        return 2;
    }
    try {
        const plan = await planStack(values.stack!, {
            root: values.dir ? path.resolve(values.dir) : undefined,
            policyConfig: values["policy-config"] ? path.resolve(values["policy-config"]) : undefined,
        });
        process.stdout.write(render(plan, format));
        const blocking = plan.violations.filter((v) => v.enforcement === "mandatory");
        if (blocking.length) {
            process.stderr.write(`error: ${blocking.length} mandatory policy violation(s); see the Policies section\n`);
            return 3;
        }
        if (plan.duplicates.length) {
            process.stderr.write(`error: ${plan.duplicates.length} duplicate resource URN(s); pulumi up would refuse this graph\n`);
            return 1;
        }
        return 0;
    } catch (err) {
        if (isConfigError(err) || err instanceof StackFileError) {
            process.stderr.write(`${(err as Error).message}\n`);
            return 1;
        }
        throw err;
    }
}

// Exit only once stdout is flushed: a pipe reader (jq, a CI step) would
// otherwise get the plan cut at 64 KiB.
function exit(code: number): void {
    process.stdout.write("", () => process.exit(code));
}

main().then(exit, (err) => {
    process.stderr.write(`plan failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    exit(2);
});
