import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../../config";
import { buildPlan, Plan, readPolicyConfig } from "./plan";
import { checkStackName, readStackFile, StackFileError } from "./stackfile";

export { sanitize, SECRET, UNKNOWN } from "./plan";
export type { Plan, PlanResource } from "./plan";
export { render, formats } from "./render";
export type { Format } from "./render";
export { readStackFile, listStacks, StackFileError, PlanArgumentError, checkStackName } from "./stackfile";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * The offline plan of one stack: its stack file's config, the program
 * evaluated under the SDK's mocks. `program` defaults to requiring index.ts
 * (what the CLI does; tests pass the same composition as a function).
 */
export async function planStack(stack: string, opts: { root?: string; program?: () => unknown; policyConfig?: string } = {}): Promise<Plan> {
    checkStackName(stack);
    const root = opts.root ?? REPO_ROOT;
    const policyConfig = policyConfigFrom(opts.policyConfig);
    const file = readStackFile(root, stack);
    // A folder of stack files without a program of its own plans this repository's.
    const main = fs.existsSync(path.join(root, "index.ts")) ? path.join(root, "index.ts") : path.join(REPO_ROOT, "index.ts");
    const program = opts.program ?? (() => require(main));
    return buildPlan(program, {
        project: file.project,
        stack,
        config: file.config,
        secretKeys: file.secretKeys,
        policyConfig,
    });
}

/** The policy config file (`--policy-config`), read and parsed before anything runs. */
function policyConfigFrom(file?: string) {
    if (file !== undefined && !fs.existsSync(file)) {
        throw new StackFileError(`--policy-config ${file}: no such file (give a policy config in Pulumi's format, or leave the option out for policies/policy-config.json)`);
    }
    try {
        return readPolicyConfig(file);
    } catch (err) {
        throw new StackFileError(`--policy-config ${file ?? "policies/policy-config.json"}: not a JSON policy config (${(err as Error).message}): fix the file, e.g. {"bucket-versioning": "advisory"}`);
    }
}

export function isConfigError(err: unknown): err is ConfigError {
    return err instanceof ConfigError || (err instanceof Error && err.name === "ConfigError");
}
