// Issue 11 (hardening): hostile values of every kind the schema takes are
// refused with their setting path, and every input of the bad-config suites
// ends as one config message with exit 1, never a JavaScript stack trace.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { loadStackConfig, parseStackConfig } from "../../config";
import { defineStack } from "../../components/stack";
import { runPlanCli } from "../../tools/plan/run-cli";
import { BadConfig, badConfigs, hardeningConfigs, mutate, Raw } from "../helpers/bad-configs";
import { oneHost, withGcp } from "../helpers/fixtures";
import { parseConfig, problemAt, REPO_ROOT, rejectedProblems, toCliConfig } from "../helpers/harness";

const problemsOf = rejectedProblems;

describe("hostile values are refused with their setting path", () => {
    test.each(hardeningConfigs)("%s", (_what, raw, secrets, at, message) => {
        const hit = problemAt(raw, secrets, at);
        expect(hit.message).toMatch(message);
        // A password in a URL is never echoed.
        expect(hit.all.join("\n")).not.toContain("hunter2");
    });
});

describe("what the schema accepts reaches the steps re-serialised", () => {
    const ws = (f: (c: Raw) => void) => parseConfig(mutate(oneHost(), f)).workstation;

    test("URLs: scheme and host lower-cased, default port dropped, nothing else changed", () => {
        const w = ws((c) => {
            c.workstation.aptProxy = "HTTP://Proxy.Example:80";
            c.workstation.base = { aptMirror: "HTTPS://Mirror.Example:443/debian/" };
            c.workstation.monitoring = { alertmanager: { webhookUrl: "https://Alerts.Example/hook/T0/B1" } };
        });
        expect(w.aptProxy).toBe("http://proxy.example");
        expect(w.base.aptMirror).toBe("https://mirror.example/debian/");
        expect(w.monitoring.alertmanager.webhookUrl).toBe("https://alerts.example/hook/T0/B1");
        expect(w.containers.apptainer.url).toContain("/v{version}/apptainer_{version}_amd64.deb");
    });

    test("plain http repositories with the explicit opt-in, and Debian's CDN by default", () => {
        const w = ws((c) => {
            c.workstation.httpRepositoryHosts = ["deb.debian.org", "mirror.lab.example"];
            c.workstation.nvidia = { repository: "http://mirror.lab.example/cuda" };
        });
        expect(w.nvidia.repository).toBe("http://mirror.lab.example/cuda");
        expect(parseConfig(oneHost()).workstation.base.aptMirror).toBe("http://deb.debian.org/debian");
    });

    test("folders are normalised; keys are re-serialised; options only where allowed", () => {
        const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIhUeXXbexzZoiLqPefvDpgz4u38N8nv0gISGcaWzUs1";
        const w = ws((c) => {
            c.workstation.mlRuntime = { path: "/srv//aihpc/ml/" };
            c.workstation.base = { users: [{ name: "alice", sshKeys: [`  ${key}   alice@laptop `] }, { name: "ci", allowKeyOptions: true, sshKeys: [`restrict,from="10.0.0.0/8" ${key}`] }] };
        });
        expect(w.mlRuntime.path).toBe("/srv/aihpc/ml");
        expect(w.base.users[0].sshKeys).toEqual([`${key} alice@laptop`]);
        expect(w.base.users[1].sshKeys).toEqual([`restrict,from="10.0.0.0/8" ${key}`]);
    });

    test("the Apptainer sha256 rule holds whatever else is on or off", () => {
        for (const nvidia of [true, false]) {
            const raw = mutate(oneHost(), (c) => Object.assign(c.workstation, { nvidia: { enabled: nvidia }, containers: { apptainer: { enabled: true } } }));
            expect(problemsOf(raw).map((p) => p.path)).toContain("aihpc:workstation.containers.apptainer.sha256");
        }
    });

    test("every Google Cloud name is checked against the stack name, for accounts the stack does not create too", () => {
        const raw = mutate(withGcp(), (c) => (c.gcp.hybrid = { gcloudCli: { install: false }, image: { enabled: false } }));
        const { config, secretKeys } = toCliConfig(raw, ["sshPrivateKey"]);
        expect(() => parseStackConfig(config, new Set(secretKeys), "dev")).not.toThrow();
        let message = "";
        try {
            parseStackConfig(config, new Set(secretKeys), "production-eu1");
        } catch (err) {
            message = (err as Error).message;
        }
        // No GitHub, no Workbench in this config: their accounts are checked anyway.
        expect(message).toMatch(/aihpc:gcp\.prefix: .*service account id 'aihpc-production-eu1-ci-preview' \(31 > 30\)/);
        expect(message).toMatch(/shorten the prefix and stack name together by at least 1 character/);
    });
});

/** A project folder with one stack file per bad config (secret keys as `secure:` values). */
function stackFolder(cases: BadConfig[]): { dir: string; stacks: string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-bad-"));
    fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const stacks = cases.map(([, raw, secrets], i) => {
        const config: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(raw)) config[`aihpc:${k}`] = secrets.includes(k) ? { secure: "v1:placeholder" } : v;
        const stack = `bad${i}`;
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), YAML.stringify({ config }));
        return stack;
    });
    return { dir, stacks };
}

const STACK_TRACE = /^\s+at .+[(:]\d+/m;

describe("every bad config through the plan command: one message, exit 1, no stack trace", () => {
    const all = [...badConfigs, ...hardeningConfigs];
    const { dir, stacks } = stackFolder(all);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test(`all ${all.length} inputs of the bad-config suites`, async () => {
        const failures: string[] = [];
        for (const [i, [what, , , at]] of all.entries()) {
            let out = "";
            const code = await runPlanCli(["--dir", dir, "--stack", stacks[i]], { out: (t) => (out += t), err: (t) => (out += t) }, { program: () => defineStack(loadStackConfig()) });
            if (code !== 1 || STACK_TRACE.test(out) || !out.includes(`  - ${at}: `) || !out.startsWith("Invalid stack configuration")) {
                failures.push(`${what}: exit ${code}\n${out.slice(0, 600)}`);
            }
        }
        expect(failures).toEqual([]);
    }, 120_000);
});

describe("the plan command as a process", () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, ["-r", "@swc-node/register", "tools/plan/cli.ts", ...args], { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, SWC_NODE_SOURCE_MAP_MODE: "inline" } });
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-cli-"));
        fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        const inject = mutate(oneHost(), (c) => (c.workstation.aptProxy = 'http://p:3128/";APT::Update::Pre-Invoke {"id";};//'));
        fs.writeFileSync(path.join(dir, "Pulumi.inject.yaml"), YAML.stringify({ config: { "aihpc:workstation": inject.workstation, "aihpc:sshPrivateKey": { secure: "v1:x" } } }));
        const gcp = mutate(withGcp(), (c) => (c.gcp.hybrid = { gcloudCli: { install: false }, image: { enabled: false } }));
        fs.writeFileSync(path.join(dir, "Pulumi.production-europe-west.yaml"), YAML.stringify({ config: { "aihpc:workstation": gcp.workstation, "aihpc:gcp": gcp.gcp, "aihpc:sshPrivateKey": { secure: "v1:x" } } }));
        fs.writeFileSync(path.join(dir, "Pulumi.torch.yaml"), YAML.stringify({ config: { "aihpc:workstation": { transport: "local", hosts: [{ name: "ws1", gpus: { count: 1 } }], mlRuntime: { torch: "1.0.0" } } } }));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test.each([
        ["an apt proxy that would inject apt config", ["--stack", "inject"], /aihpc:workstation\.aptProxy: got .*expected an http/],
        ["a gcp stack name too long for its service account ids", ["--stack", "production-europe-west"], /aihpc:gcp\.prefix: .*service account id/],
        ["a torch version without a lock", ["--stack", "torch"], /aihpc:workstation\.mlRuntime\.torch: no committed lock for torch 1\.0\.0/],
        ["a stack that does not exist", ["--stack", "nosuchstack"], /no stack 'nosuchstack': .*Pulumi\.nosuchstack\.yaml does not exist/],
        ["a missing --dir", ["--dir", "/nonexistent/aihpc"], /no Pulumi project in \/nonexistent\/aihpc/],
        ["a missing --policy-config file", ["--policy-config", "/nonexistent/policy.json"], /--policy-config \/nonexistent\/policy\.json: no such file/],
    ])("%s: exit 1, the message, no stack trace", (_what, args, message) => {
        const r = cli(...(args[0] === "--stack" ? ["--dir", dir, ...args] : args));
        expect(r.stderr).toMatch(message);
        expect(`${r.stdout}${r.stderr}`).not.toMatch(STACK_TRACE);
        expect(r.status).toBe(1);
    });

    test.each([["x/../../y"], [".."], ["../Pulumi"], ["a b"]])("a stack name %j is a bad argument (exit 2), refused before any file is read", (stack) => {
        const r = cli("--dir", dir, "--stack", stack);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/expected a stack name .*no '\.\.' or path separators/);
        expect(r.stderr).toContain("usage: npm run plan");
        expect(r.stderr).not.toMatch(STACK_TRACE);
    });
});
