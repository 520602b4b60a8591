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

    test("with accounting: per-user GPU hours and queue waits over the last day (sacct), pending waits (squeue), fair share (sshare)", () => {
        const dir = fs.mkdtempSync(path.join(tmp, "acct-"));
        fs.mkdirSync(path.join(dir, "bin"));
        const fake = (name: string, body: string) => fs.writeFileSync(path.join(dir, "bin", name), `#!/bin/bash\nnow=$(date +%s)\n${body}\n`, { mode: 0o755 });
        for (const c of ["sinfo"]) fs.copyFileSync(path.join(tmp, "bin", c), path.join(dir, "bin", c));
        fake("scontrol", "printf 'AccountingStorageHost   = ws1\\nAccountingStorageType   = accounting_storage/slurmdbd\\n'");
        // Submit times from before the collector reads its clock (its own `now` can be a second later than a fake's).
        const t0 = Math.floor(Date.now() / 1000);
        fake("squeue", `case "$*" in
  *PD*) [ "$SLURM_TIME_FORMAT" = %s ] || exit 1; printf 'alice|vision|%s\\nalice|vision|%s\\n' $((${t0} - 300)) $((${t0} - 60)) ;;
  *) printf 'RUNNING\\nPENDING\\n' ;;
esac`);
        // sacct -X -P --format=User,Account,Submit,Start,End,AllocTRES, times in epoch seconds (SLURM_TIME_FORMAT=%s).
        fake("sacct", `[ "$SLURM_TIME_FORMAT" = %s ] || exit 1
case "$*" in *"-S "*) ;; *) exit 1 ;; esac
cat <<EOF
alice|vision|$((now - 7200))|$((now - 7000))|$((now - 3400))|billing=2,cpu=2,gres/gpu:fake=2,gres/gpu=2,mem=1G,node=1
alice|vision|$((now - 1830))|$((now - 1800))|Unknown|billing=1,cpu=1,gres/gpu:fake=1,gres/gpu=1,node=1
bob|lab|$((now - 90100))|$((now - 90000))|$((now - 82800))|cpu=1,gres/gpu=1,node=1
bob|lab|$((now - 100))|$((now - 40))|$((now - 10))|cpu=1,gres/shard=1,node=1
alice|vision|$((now - 60))|Unknown|Unknown|billing=1,cpu=1,gres/gpu=1,node=1
EOF`);
        // sshare -nP -a -o Account,User,RawUsage,EffectvUsage,FairShare: the tree indented.
        fake("sshare", "printf 'root||9000|1.000000|\\n root|root|0|0.000000|1.000000\\n lab||9000|1.000000|\\n  lab|bob|1000|0.111111|0.250000\\n  vision||8000|0.888889|\\n   vision|alice|8000|1.000000|0.125000\\n'");
        execFileSync("bash", [path.join(ROOT, "monitoring", "scripts", "slurm-metrics.sh")], { env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, TEXTFILE_DIR: dir } });
        const prom = fs.readFileSync(path.join(dir, "slurm.prom"), "utf8");
        const value = (series: string) => {
            const line = prom.split("\n").find((l) => l.startsWith(`${series} `));
            if (!line) throw new Error(`${series} not in:\n${prom}`);
            return Number(line.split(" ")[1]);
        };
        const alice = 'user="alice",account="vision",window="24h"';
        const bob = 'user="bob",account="lab",window="24h"';
        expect(value("slurm_accounting_scrape_success")).toBe(1);
        // 2 GPUs x 1 h, plus 1 GPU x 30 min so far; the pending job nothing.
        expect(value(`slurm_user_gpu_seconds{${alice}}`) / 3600).toBeCloseTo(2.5, 2);
        // Only the hour inside the window; a shard job is no whole GPU.
        // (The stand-in and the collector each read the clock: a second may pass between.)
        expect(Math.abs(value(`slurm_user_gpu_seconds{${bob}}`) - 3600)).toBeLessThanOrEqual(2);
        expect([value(`slurm_user_queue_wait_seconds_mean{${alice}}`), value(`slurm_user_jobs_started{${alice}}`), value(`slurm_user_queue_wait_seconds_max{${alice}}`)]).toEqual([115, 2, 200]);
        // The job that started before the window is not one of bob's waits.
        expect([value(`slurm_user_queue_wait_seconds_mean{${bob}}`), value(`slurm_user_jobs_started{${bob}}`)]).toEqual([60, 1]);
        expect(value('slurm_user_jobs_pending{user="alice",account="vision"}')).toBe(2);
        expect(value('slurm_user_pending_wait_seconds_max{user="alice",account="vision"}')).toBeGreaterThanOrEqual(300);
        expect(value('slurm_share_raw_usage{account="vision",user="alice"}')).toBe(8000);
        expect(value('slurm_share_raw_usage{account="lab",user=""}')).toBe(9000);
        expect(value('slurm_share_fairshare{account="lab",user="bob"}')).toBe(0.25);
        expect(prom).not.toMatch(/slurm_share_fairshare\{account="lab",user=""\}/);
        const r = spawnSync(requireTool("promtool"), ["check", "metrics"], { input: prom, encoding: "utf8" });
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
    });

    test("accounting off (no slurmdbd in slurm.conf): no accounting metrics, sacct not asked", () => {
        const dir = fs.mkdtempSync(path.join(tmp, "noacct-"));
        fs.mkdirSync(path.join(dir, "bin"));
        for (const c of ["sinfo", "squeue"]) fs.copyFileSync(path.join(tmp, "bin", c), path.join(dir, "bin", c));
        fs.writeFileSync(path.join(dir, "bin", "scontrol"), "#!/bin/sh\nprintf 'AccountingStorageType   = (null)\\n'\n", { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "bin", "sacct"), `#!/bin/sh\ntouch ${dir}/sacct-ran\n`, { mode: 0o755 });
        execFileSync("bash", [path.join(ROOT, "monitoring", "scripts", "slurm-metrics.sh")], { env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, TEXTFILE_DIR: dir } });
        const prom = fs.readFileSync(path.join(dir, "slurm.prom"), "utf8");
        expect(prom).toContain("slurm_scrape_success 1\n");
        expect(prom).not.toMatch(/slurm_(accounting|user|share)_/);
        expect(fs.existsSync(path.join(dir, "sacct-ran"))).toBe(false);
    });

    test("slurmdbd unreachable: accounting_scrape_success 0, the rest as usual", () => {
        const dir = fs.mkdtempSync(path.join(tmp, "dbdown-"));
        fs.mkdirSync(path.join(dir, "bin"));
        for (const c of ["sinfo", "squeue"]) fs.copyFileSync(path.join(tmp, "bin", c), path.join(dir, "bin", c));
        fs.writeFileSync(path.join(dir, "bin", "scontrol"), "#!/bin/sh\nprintf 'AccountingStorageType   = accounting_storage/slurmdbd\\n'\n", { mode: 0o755 });
        for (const c of ["sacct", "sshare"]) fs.writeFileSync(path.join(dir, "bin", c), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
        execFileSync("bash", [path.join(ROOT, "monitoring", "scripts", "slurm-metrics.sh")], { env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, TEXTFILE_DIR: dir } });
        const prom = fs.readFileSync(path.join(dir, "slurm.prom"), "utf8");
        expect(prom).toContain("slurm_scrape_success 1\n");
        expect(prom).toContain("slurm_accounting_scrape_success 0\n");
        expect(prom).not.toMatch(/slurm_(user|share)_/);
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
