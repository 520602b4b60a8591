// How the Pulumi CLI's Node.js host loads the program (Pulumi.yaml's runtime
// options): ts-node, transpiling with swc and without a type check, and the
// same heap flag as `npm run plan`. The engine cannot run here (issue 10), so
// tools/bench/pulumi-loader.js registers ts-node as the host's run.js does and
// the program runs under it, against the offline plan's own loader.
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import * as YAML from "yaml";
import { REPO_ROOT } from "../helpers/harness";

const run = promisify(execFile);
const read = (f: string) => fs.readFileSync(path.join(REPO_ROOT, f), "utf8");
const options = YAML.parse(read("Pulumi.yaml")).runtime.options;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tsutils = require("@pulumi/pulumi/tsutils");

/** node's flags in package.json's plan script: what sits between `node` and `-r`. */
function planScriptNodeFlags(): string {
    const script: string = JSON.parse(read("package.json")).scripts.plan;
    return /\bnode (.*?) ?-r @swc-node\/register /.exec(script)![1];
}

describe("the program as the Pulumi CLI loads it", () => {
    test("the tsconfig Pulumi.yaml names skips the type check, as the SDK reads it, and transpiles with swc", () => {
        const file = path.join(REPO_ROOT, options.tsconfig);
        // The host's run.js: transpileOnly is the tsconfig's noCheck (PULUMI_NODEJS_TRANSPILE_ONLY unset).
        expect(tsutils.loadTypeScriptCompilerOptions(file).noCheck).toBe(true);
        // ts-node reads its own section; swc must resolve from the project, or ts-node stops.
        const parsed = require("typescript").readConfigFile(file, (f: string) => fs.readFileSync(f, "utf8")).config;
        expect(parsed["ts-node"]).toEqual({ swc: true });
        expect(() => require.resolve("@swc/core", { paths: [REPO_ROOT] })).not.toThrow();
        // The strict check still runs, in `npm test`, on the tsconfig this one extends.
        expect(parsed.extends).toBe("./tsconfig.json");
        expect(JSON.parse(read("package.json")).scripts.typecheck).toBe("tsc --noEmit -p tsconfig.json");
        expect(tsutils.loadTypeScriptCompilerOptions(path.join(REPO_ROOT, "tsconfig.json")).noCheck).toBeUndefined();
    });

    test("Pulumi.yaml's node arguments are the plan script's, so the plan measures what a preview runs", () => {
        expect(options.nodeargs).toBe("--heap-growing-percent=80");
        expect(planScriptNodeFlags()).toBe(options.nodeargs);
    });

    test("under the host's ts-node registration the program plans the same graph as `npm run plan`", async () => {
        const opts = { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, SWC_NODE_SOURCE_MAP_MODE: "inline" } };
        const args = ["tools/plan/cli.ts", "--stack", "local", "--format", "json"];
        const [viaPulumi, viaPlan] = await Promise.all([
            run(process.execPath, [...options.nodeargs.split(" "), "-r", "./tools/bench/pulumi-loader.js", ...args], opts),
            run(process.execPath, [...planScriptNodeFlags().split(" "), "-r", "@swc-node/register", ...args], opts),
        ]);
        const graph = (out: string) => (JSON.parse(out).resources as { urn: string; inputs: unknown }[]).map((r) => [r.urn, r.inputs]);
        expect(graph(viaPulumi.stdout).length).toBeGreaterThan(40);
        expect(graph(viaPulumi.stdout)).toEqual(graph(viaPlan.stdout));
    }, 60_000);

    test("the loader registers ts-node transpile-only with swc, as the host would", async () => {
        const probe = "const s = process[Symbol.for('ts-node.register.instance')]; console.log(JSON.stringify([s.transpileOnly, s.options.swc, s.configFilePath]))";
        const { stdout } = await run(process.execPath, ["-r", "./tools/bench/pulumi-loader.js", "-e", probe], { cwd: REPO_ROOT });
        expect(JSON.parse(stdout)).toEqual([true, true, path.join(REPO_ROOT, "tsconfig.pulumi.json")]);
    });
});
