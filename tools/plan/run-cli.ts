// The plan command's logic, apart from the process (tools/plan/cli.ts): the
// arguments in, the exit status out, what it prints through `io`. Tests run
// it in-process for many inputs.
import * as path from "path";
import { parseArgs } from "util";
import * as pulumi from "@pulumi/pulumi";
import { formats, Format, isConfigError, PlanArgumentError, planStack, render, StackFileError } from "./index";

export const USAGE = "usage: npm run plan -- [--stack local] [--format text|markdown|json|mermaid] [--dir PROJECT_DIR] [--policy-config FILE]";

export interface CliIo {
    out(text: string): void;
    err(text: string): void;
}

/**
 * Exit status: 0 planned; 1 invalid config, unreadable stack or policy file, or
 * duplicate URNs (one message, no stack trace); 2 bad arguments; 3 a mandatory
 * policy violation. Anything thrown is a bug of the program (cli.ts: exit 1).
 */
export async function runPlanCli(args: string[], io: CliIo, opts: { program?: () => unknown } = {}): Promise<number> {
    let values: { stack?: string; format?: string; dir?: string; "policy-config"?: string; help?: boolean };
    try {
        ({ values } = parseArgs({
            args,
            options: { stack: { type: "string", short: "s", default: "local" }, format: { type: "string", short: "f", default: "text" }, dir: { type: "string" }, "policy-config": { type: "string" }, help: { type: "boolean", short: "h" } },
        }));
    } catch (err) {
        io.err(`${(err as Error).message}\n${USAGE}\n`);
        return 2;
    }
    if (values.help) {
        io.out(`${USAGE}\n`);
        return 0;
    }
    const format = values.format as Format;
    if (!(format in formats)) {
        io.err(`unknown --format '${values.format}': expected one of ${Object.keys(formats).join(", ")}\n`);
        return 2;
    }
    try {
        const plan = await planStack(values.stack!, {
            root: values.dir ? path.resolve(values.dir) : undefined,
            policyConfig: values["policy-config"] ? path.resolve(values["policy-config"]) : undefined,
            program: opts.program,
        });
        io.out(render(plan, format));
        const blocking = plan.violations.filter((v) => v.enforcement === "mandatory");
        if (blocking.length) {
            io.err(`error: ${blocking.length} mandatory policy violation(s); see the Policies section\n`);
            return 3;
        }
        if (plan.duplicates.length) {
            io.err(`error: ${plan.duplicates.length} duplicate resource URN(s); pulumi up would refuse this graph\n`);
            return 1;
        }
        return 0;
    } catch (err) {
        if (err instanceof PlanArgumentError) {
            io.err(`${err.message}\n${USAGE}\n`);
            return 2;
        }
        // Config and input files: the message alone (what is wrong, what to do), as `pulumi up` prints a RunError.
        if (isConfigError(err) || err instanceof StackFileError || pulumi.RunError.isInstance(err)) {
            io.err(`${(err as Error).message}\n`);
            return 1;
        }
        throw err;
    }
}
