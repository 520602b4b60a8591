import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { loadStackConfig } from "../../config";
import { defineStack } from "../../components/stack";
import { formats, planStack, readStackFile, render } from "../../tools/plan";
import { oneHost } from "../helpers/fixtures";
import { REPO_ROOT } from "../helpers/harness";

const run = promisify(execFile);
const program = () => defineStack(loadStackConfig());

/** A throwaway project dir holding one stack file and an index.ts that is the repo's program. */
function tempProject(stack: string, config: Record<string, unknown>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-plan-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: aihpc\nruntime: nodejs\n");
    const yaml = Object.entries(config)
        .map(([k, v]) => `  aihpc:${k}: ${JSON.stringify(v)}`)
        .join("\n");
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), `config:\n${yaml}\n`);
    return dir;
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        // As package.json's "plan" script runs it (its heap flag aside: tests/unit/pulumi-loader.test.ts).
        const { stdout, stderr } = await run(process.execPath, ["-r", "@swc-node/register", "tools/plan/cli.ts", ...args], {
            cwd: REPO_ROOT,
            env: { ...process.env, SWC_NODE_SOURCE_MAP_MODE: "inline" },
            maxBuffer: 64 * 1024 * 1024,
        });
        return { code: 0, stdout, stderr };
    } catch (err: any) {
        return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
    }
}

describe("stack files as the CLI would pass them", () => {
    test("secure: values become secret keys without being decrypted", () => {
        const f = readStackFile(REPO_ROOT, "local");
        expect(f.project).toBe("aihpc");
        expect(f.secretKeys).toEqual(["aihpc:sshPrivateKey"]);
        expect(f.config["aihpc:sshPrivateKey"]).not.toContain("REPLACE");
        expect(JSON.parse(f.config["aihpc:workstation"]).hosts[0].name).toBe("ws1");
    });

    test("an unknown stack names the stacks that exist", () => {
        expect(() => readStackFile(REPO_ROOT, "prod")).toThrow(/no stack 'prod'.*stacks here: gcp, local/);
    });
});

describe("offline plan", () => {
    test("every format renders the shipped stacks", async () => {
        for (const stack of ["local", "gcp"]) {
            const plan = await planStack(stack, { program });
            expect(plan.duplicates).toEqual([]);
            expect(plan.resources.length).toBeGreaterThan(2);
            for (const f of Object.keys(formats) as (keyof typeof formats)[]) {
                expect(render(plan, f).length).toBeGreaterThan(50);
            }
        }
    });

    test("JSON lists each resource with its type token, name, parent and inputs", async () => {
        const doc = JSON.parse(render(await planStack("local", { program }), "json"));
        const probe = doc.resources.find((r: any) => r.name === "ws-ws1-facts");
        expect(probe).toMatchObject({ type: "command:remote:Command", parent: "ws-ws1", custom: true });
        expect(probe.inputs.connection).toMatchObject({ host: "192.168.1.50", port: 22, user: "root", privateKey: "[secret]" });
        expect(probe.inputs.create).toContain("bash -c");
        const host = doc.resources.find((r: any) => r.name === "ws-ws1");
        expect(host).toMatchObject({ type: "aihpc:workstation:Host", parent: "ws", custom: false });
        expect(doc.counts["command:remote:Command"]).toBeGreaterThanOrEqual(1);
    });

    test("a secret's value appears in no format", async () => {
        const dir = tempProject("s", oneHost());
        fs.writeFileSync(
            path.join(dir, "Pulumi.s.yaml"),
            fs.readFileSync(path.join(dir, "Pulumi.s.yaml"), "utf8").replace(/aihpc:sshPrivateKey: .*/, "aihpc:sshPrivateKey:\n    secure: v1:CIPHERTEXT-MUST-NOT-LEAK"),
        );
        const plan = await planStack("s", { root: dir, program });
        for (const f of Object.keys(formats) as (keyof typeof formats)[]) {
            const out = render(plan, f);
            expect(out).not.toContain("CIPHERTEXT-MUST-NOT-LEAK");
            expect(out).not.toContain("secret not decrypted");
        }
        expect(render(plan, "text")).toContain("connection.privateKey: [secret]");
    });

    test("Mermaid shows components as subgraphs and resources inside them", async () => {
        const out = render(await planStack("local", { program }), "mermaid");
        expect(out.split("\n")[0]).toBe("graph LR");
        expect(out).toMatch(/subgraph n\d+\["ws<br\/><small>aihpc:workstation:Workstation/);
        expect(out).toMatch(/n\d+\["ws-ws1-facts<br\/><small>command:remote:Command/);
    });

    test("Markdown is a pull-request comment with counts and folded details", async () => {
        const out = render(await planStack("local", { program }), "markdown");
        expect(out).toMatch(/^### Plan: stack `local`/);
        expect(out).toContain("| `command:remote:Command` |");
        expect(out).toContain("<details><summary>Resource tree</summary>");
    });
});

describe("plan CLI", () => {
    jest.setTimeout(60000);

    test("prints the local stack by default and exits 0", async () => {
        const r = await cli([]);
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/^Plan for stack 'local'/);
        expect(r.stdout).toContain("+ command:remote:Command  ws-ws1-facts");
    });

    test("exits non-zero with the config message on invalid config", async () => {
        const dir = tempProject("bad", { workstation: { hosts: [{ name: "ws1", address: "10.0.0.1", port: 70000 }] } });
        fs.writeFileSync(path.join(dir, "index.ts"), `export = require(${JSON.stringify(path.join(REPO_ROOT, "index.ts"))});\n`);
        const r = await cli(["--stack", "bad", "--dir", dir]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/^Invalid stack configuration: 3 problems/);
        expect(r.stderr).toContain("aihpc:workstation.hosts[0].port: expected a TCP port from 1 to 65535, got 70000");
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
        expect(r.stdout).toBe("");
    });

    test("a large JSON plan reaches a pipe whole (the gcp stack is several hundred KiB)", async () => {
        const r = await cli(["--stack", "gcp", "--format", "json"]);
        expect(r.code).toBe(0);
        expect(r.stdout.length).toBeGreaterThan(65536);
        expect(JSON.parse(r.stdout).stack).toBe("gcp");
    });

    test("rejects an unknown format", async () => {
        const r = await cli(["--format", "yaml"]);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain("unknown --format 'yaml': expected one of text, markdown, json, mermaid");
    });
});
