// The README's test commands are what CI and the pull-request workflow run,
// and they work on a fresh machine: tools/test-deps.sh (npm's pretest)
// installs the Debian tools the tests use, or stops at once saying which.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";

const ROOT = path.join(__dirname, "..", "..");
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");

/** The commands of the first ```sh block under "## Tests", comments dropped. */
function readmeTestCommands(): string[] {
    const tests = read("README.md").split(/^## Tests$/m)[1];
    const block = /```sh\n([\s\S]*?)```/.exec(tests)![1];
    return block
        .split("\n")
        .map((l) => l.replace(/\s+#.*$/, "").trim())
        .filter(Boolean);
}

describe("one test command: README, .ci/run, pull-request workflow", () => {
    test("the README's Tests block is npm ci && npm test, then the testbed", () => {
        expect(readmeTestCommands()).toEqual(["npm ci && npm test", "npm run test:testbed"]);
        expect(read("README.md")).toMatch(/^npm ci && npm test\s+#/m);
    });

    test(".ci/run runs exactly the README's commands, and installs nothing itself", () => {
        // A list in a subshell `( ... )` stops the script when any part fails.
        const code = read(".ci/run")
            .split("\n")
            .map((l) => l.trim().replace(/^\((.*)\)$/, "$1"))
            .filter((l) => l && !l.startsWith("#"));
        expect(code.filter((l) => /^npm\b/.test(l))).toEqual(readmeTestCommands());
        expect(code.join("\n")).not.toMatch(/apt-get|apt |dpkg/);
    });

    test("the pull-request test job runs the first one, as root on Debian 12 with Node 20", () => {
        const wf = YAML.parse(read(".github/workflows/pull-request.yml"));
        const job = wf.jobs.test;
        expect(job.container).toBe("node:20-bookworm");
        const runs = job.steps.filter((s: { run?: string }) => s.run).map((s: { run: string }) => s.run.trim());
        expect(runs).toEqual([readmeTestCommands()[0]]);
    });

    test("the versions report runs in CI as a report, never a gate (its own job with continue-on-error; not in .ci/run or npm test)", () => {
        const wf = YAML.parse(read(".github/workflows/versions.yml"));
        expect(Object.keys(wf.jobs)).toEqual(["report"]);
        expect(wf.jobs.report["continue-on-error"]).toBe(true);
        expect(wf.jobs.report.steps.map((s: { run?: string }) => s.run ?? "").join("\n")).toContain("npm run -s versions");
        expect(read(".ci/run")).not.toMatch(/versions/);
        expect(JSON.parse(read("package.json")).scripts.test).not.toMatch(/versions/);
        expect(YAML.parse(read(".github/workflows/pull-request.yml")).jobs.test.steps.map((s: { run?: string }) => s.run ?? "").join("\n")).not.toMatch(/versions/);
    });

    test("npm test runs tools/test-deps.sh first", () => {
        expect(JSON.parse(read("package.json")).scripts.pretest).toBe("bash tools/test-deps.sh");
    });
});

test(".ci/run stops when npm ci fails (set -e and &&)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-ci-run-"));
    try {
        fs.mkdirSync(`${dir}/.ci`);
        fs.copyFileSync(path.join(ROOT, ".ci/run"), `${dir}/.ci/run`);
        fs.writeFileSync(`${dir}/npm`, `#!/bin/sh\necho "npm $*" >>${dir}/npm.log\n[ "$1" = ci ] && exit 1\nexit 0\n`, { mode: 0o755 });
        fs.writeFileSync(`${dir}/node`, "#!/bin/sh\necho v20\n", { mode: 0o755 });
        const r = spawnSync("bash", [`${dir}/.ci/run`], { encoding: "utf8", env: { PATH: `${dir}:/usr/bin:/bin` } });
        expect(r.status).not.toBe(0);
        expect(fs.readFileSync(`${dir}/npm.log`, "utf8")).toBe("npm ci\n");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

describe("tools/test-deps.sh", () => {
    const TOOLS = ["shellcheck", "promtool", "amtool", "jq", "python3", "g++", "gpg", "ssh-keygen"];
    let dir: string;
    let bin: string;
    let script: string;
    const fake = (name: string, body = "exit 0") => fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    const which = (c: string) => spawnSync("sh", ["-c", `command -v ${c}`], { encoding: "utf8" }).stdout.trim();
    const run = (as: "root" | "nobody") => {
        const cmd = as === "root" ? ["/bin/bash", script] : [which("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/bash", script];
        const t0 = Date.now();
        const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", env: { PATH: bin }, cwd: dir });
        return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
    };

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-test-deps-"));
        fs.chmodSync(dir, 0o755);
        bin = path.join(dir, "bin");
        fs.mkdirSync(bin, { mode: 0o755 });
        script = path.join(dir, "test-deps.sh");
        fs.copyFileSync(path.join(ROOT, "tools", "test-deps.sh"), script);
        fs.chmodSync(script, 0o755);
        // Only what the script itself needs besides the tools under test.
        fs.symlinkSync(which("id"), path.join(bin, "id"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("with every tool there: nothing to say, nothing run", () => {
        for (const t of TOOLS) fake(t);
        fake("apt-get", `echo "apt-get $*" >>${dir}/apt.log`);
        const r = run("root");
        expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: "" });
        expect(fs.existsSync(path.join(dir, "apt.log"))).toBe(false);
    });

    test("not root, tools missing: stops at once with one line naming the packages and the install command", () => {
        for (const t of ["jq", "python3", "g++", "gpg", "ssh-keygen"]) fake(t);
        const r = run("nobody");
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr.trim().split("\n")).toEqual([
            "npm test needs shellcheck prometheus prometheus-alertmanager: run 'sudo apt-get install --no-install-recommends shellcheck prometheus prometheus-alertmanager' (or npm test as root, which installs them)",
        ]);
        expect(r.ms).toBeLessThan(2000);
    });

    test("root, tools missing: one apt-get update, then an install of exactly those, no recommends, waiting for the dpkg lock", () => {
        for (const t of ["shellcheck", "python3", "g++", "gpg", "ssh-keygen"]) fake(t);
        fake("apt-get", `echo "apt-get $*" >>${dir}/apt.log`);
        const r = run("root");
        expect(r.code).toBe(0);
        expect(r.stderr).toContain("test-deps: installing prometheus prometheus-alertmanager jq");
        expect(fs.readFileSync(path.join(dir, "apt.log"), "utf8").trim().split("\n")).toEqual([
            "apt-get -q -y -o DPkg::Lock::Timeout=300 update --error-on=any",
            "apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends prometheus prometheus-alertmanager jq",
        ]);
    });

    test("root, apt-get update fails: says so with the install command, exit 1", () => {
        for (const t of ["python3", "g++", "gpg", "ssh-keygen"]) fake(t);
        fake("apt-get", `[ "$5" = update ] && exit 100; exit 0`);
        const r = run("root");
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/test-deps: apt-get update failed .*apt-get install --no-install-recommends shellcheck prometheus prometheus-alertmanager jq\)$/m);
    });
});
