// The library's change detection exercised for real in a temp directory, and
// the Slurm metrics collector with stand-in commands. (Every step script's
// lib.sh/shellcheck/idempotence checks: tests/unit/steps/scripts.test.ts.)
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stepScript } from "../../../components/steps";
import { requireRoot, requireTool } from "../../helpers/tools";

const ROOT = path.resolve(__dirname, "..", "..", "..", "components", "workstation");

describe("lib.sh change detection, run for real", () => {
    let tmp: string;
    beforeAll(() => {
        // The library's chown needs root, as on a host.
        requireRoot();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-lib-"));
        fs.writeFileSync(path.join(tmp, "step.sh"), 'f="$TARGET"\naihpc_put "$f" 0640 root:root "$CONTENT"\naihpc_done\n');
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    const runStep = (content: string) =>
        execFileSync("bash", ["-c", stepScript(tmp, "step.sh"), "aihpc-step"], { env: { ...process.env, TARGET: path.join(tmp, "etc", "x.conf"), CONTENT: content }, encoding: "utf8" });

    test("first run writes and says changed; the same again says unchanged; new content changes", () => {
        expect(runStep("a=1\nb=2").trim().split("\n").pop()).toBe("aihpc: changed");
        expect(fs.readFileSync(path.join(tmp, "etc", "x.conf"), "utf8")).toBe("a=1\nb=2\n");
        expect((fs.statSync(path.join(tmp, "etc", "x.conf")).mode & 0o777).toString(8)).toBe("640");
        expect(runStep("a=1\nb=2").trim()).toBe("aihpc: unchanged");
        expect(runStep("a=1\nb=3").trim().split("\n").pop()).toBe("aihpc: changed");
    });

    test("a wrong mode is corrected", () => {
        runStep("m");
        fs.chmodSync(path.join(tmp, "etc", "x.conf"), 0o644);
        expect(runStep("m").trim().split("\n").pop()).toBe("aihpc: changed");
    });
});

describe("slurm metrics collector, with stand-in sinfo and squeue", () => {
    let tmp: string;
    beforeAll(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-metrics-"));
        fs.mkdirSync(path.join(tmp, "bin"));
        const fake = (name: string, body: string) => fs.writeFileSync(path.join(tmp, "bin", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        // Output shapes of Slurm 22.05's sinfo/squeue for these formats.
        fake("sinfo", `case "$*" in
  *NodeList*) printf 'ws1  gpu:fake:1(S:0)  gpu:fake:1(IDX:0)\\nws2  gpu:fake:1(S:0)  gpu:fake:0(IDX:N/A)\\n' ;;
  *) printf 'ws1 mixed\\nws2 drained*\\nws1 mixed\\n' ;;
esac`);
        fake("squeue", "printf 'RUNNING\\nPENDING\\nPENDING\\n'");
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    test("writes node states, GPU counts and job counts", () => {
        const script = path.join(ROOT, "monitoring", "scripts", "slurm-metrics.sh");
        execFileSync("bash", [script], { env: { PATH: `${path.join(tmp, "bin")}:/usr/bin:/bin`, TEXTFILE_DIR: tmp } });
        const prom = fs.readFileSync(path.join(tmp, "slurm.prom"), "utf8");
        expect(prom).toContain("slurm_scrape_success 1\n");
        expect(prom).toContain('slurm_node_state{node="ws1",state="mixed"} 1\n');
        expect(prom).toContain('slurm_node_state{node="ws2",state="drained"} 1\n');
        expect(prom.match(/node="ws1",state="mixed"/g)).toHaveLength(1);
        expect(prom).toContain('slurm_node_gpus{node="ws2"} 1\n');
        expect(prom).toContain('slurm_node_gpus_allocated{node="ws1"} 1\n');
        expect(prom).toContain('slurm_node_gpus_allocated{node="ws2"} 0\n');
        expect(prom).toContain('slurm_jobs{state="pending"} 2\n');
        const r = spawnSync(requireTool("promtool"), ["check", "metrics"], { input: prom, encoding: "utf8" });
        expect(r.status).toBe(0);
    });

    test("slurmctld unreachable: scrape_success 0 and nothing stale", () => {
        const dir = fs.mkdtempSync(path.join(tmp, "down-"));
        fs.mkdirSync(path.join(dir, "bin"));
        for (const c of ["sinfo", "squeue"]) fs.writeFileSync(path.join(dir, "bin", c), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
        execFileSync("bash", [path.join(ROOT, "monitoring", "scripts", "slurm-metrics.sh")], { env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, TEXTFILE_DIR: dir } });
        const prom = fs.readFileSync(path.join(dir, "slurm.prom"), "utf8");
        expect(prom).toContain("slurm_scrape_success 0\n");
        expect(prom).not.toContain("slurm_node_state");
    });
});
