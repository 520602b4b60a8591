// The Acceptance component under the SDK mocks, and its shell for real on this
// machine (no GPU): the install step into a scratch prefix with a stand-in
// nvcc, and the runner with stand-in programs that replay the H200 run.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Acceptance, acceptanceConf, CONF_FILE, INSTALL_DIR, suiteFileSet, SUITE_FILES } from "../../../components/workstation/acceptance";
import { stepReceived } from "../../helpers/steps";
import { Host } from "../../../components/workstation/host";
import { stepScript } from "../../../components/steps";
import { oneHost } from "../../helpers/fixtures";
import { parseConfig, runComponent } from "../../helpers/harness";
import { requireRoot } from "../../helpers/tools";

const ACCEPTANCE = path.join(__dirname, "../../../components/workstation/acceptance");
const FIXTURE = path.join(__dirname, "fixtures/h200-raw.jsonl");

function hosts(gpuCounts: number[]) {
    const base = parseConfig(oneHost()).workstation.hosts[0];
    return gpuCounts.map((count, i) => new Host(`host-ws${i + 1}`, { host: { ...base, name: `ws${i + 1}`, gpus: { ...base.gpus, count } }, transport: "local" }));
}
const config = () => parseConfig(oneHost()).workstation.acceptance;

describe("Acceptance component", () => {
    test("a retain and an install step per GPU host, after its facts probe; none on a host without GPUs", async () => {
        const run = await runComponent(() => new Acceptance("acc", { hosts: hosts([1, 0]), config: config(), python: "/opt/aihpc/ml/bin/python" }));
        const steps = run.ofType("command:local:Command").filter((r) => r.name.startsWith("acc-"));
        expect(steps.map((s) => s.name).sort()).toEqual(["acc-ws1", "acc-ws1-retain"]);
        expect(run.named("acc-ws1").parent).toBe(run.named("acc").urn);
        expect(run.named("acc-ws1").dependencies).toContain(run.named("host-ws1-facts").urn);
        const inputs = run.inputsOf("acc-ws1");
        // Its settings file rendered in TypeScript, on the step's stdin; the paths (defined once) in the command.
        expect(stepReceived(inputs).vars.CONF).toBe(acceptanceConf(config().minFractionOfPeak, "/opt/aihpc/ml/bin/python"));
        expect(stepReceived(inputs).vars.CONF).toContain("\ndeviceBandwidth=0.75\nhostDeviceBandwidth=0.6\ngemm=0.6\npython=/opt/aihpc/ml/bin/python");
        expect(inputs.create).toContain(`CONF_FILE='${CONF_FILE}'`);
        expect(inputs.delete).toContain(`DEST='${INSTALL_DIR}'`);
        expect(inputs.create).toMatch(/^AIHPC_ACTION='?apply'? /);
        expect(inputs.delete).toMatch(/^AIHPC_ACTION='?delete'? /);
        // The house pattern: lib.sh + the step from the bundle, the suite as a bundled file set (not in argv).
        expect(inputs.create).toMatch(/ bash \S+\/lib\.sh \S+\/install\.sh$/);
        for (const f of SUITE_FILES) expect(inputs.create).toContain(`${f}:`);
        expect(Buffer.byteLength(inputs.create)).toBeLessThan(4 * 1024);
        // A retain step first, as every component.
        expect(run.inputsOf("acc-ws1-retain").create).toContain("COMPONENT='acceptance'");
        expect(run.named("acc-ws1").dependencies).toContain(run.named("acc-ws1-retain").urn);
    });

    test("disabled: no steps", async () => {
        const run = await runComponent(() => new Acceptance("acc", { hosts: hosts([1]), config: { ...config(), enabled: false } }));
        expect(run.resources.filter((r) => r.name.startsWith("acc-"))).toEqual([]);
    });

    test("the venv's python reaches the step as one line of its settings file (read, never sourced; the schema checks mlRuntime.path)", async () => {
        const run = await runComponent(() => new Acceptance("acc", { hosts: hosts([1]), config: config(), python: "/opt/it's here/bin/python" }));
        expect(stepReceived(run.inputsOf("acc-ws1")).vars.CONF.split("\n")).toContain("python=/opt/it's here/bin/python");
    });

    test("ships every file the runner needs", () => {
        for (const f of SUITE_FILES) expect(fs.existsSync(path.join(ACCEPTANCE, f))).toBe(true);
        const runner = fs.readFileSync(path.join(ACCEPTANCE, "scripts/aihpc-gpu-acceptance"), "utf8");
        for (const f of ["build.sh", "evaluate.py", "torch_matmul.py", "gpu-specs.json"]) expect(runner).toContain(f);
    });
});

function scratch(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-acceptance-"));
}

function writeExec(file: string, text: string) {
    fs.writeFileSync(file, text, { mode: 0o755 });
}

describe("install step, for real in a scratch prefix", () => {
    let dir: string;
    beforeEach(() => {
        // lib.sh's file helpers chown, as on a host.
        requireRoot();
        dir = scratch();
        // A stand-in nvcc: writes each -o target (the real build ran on the H200, docs/acceptance.md).
        writeExec(`${dir}/nvcc`, '#!/bin/sh\n[ "$1" = --version ] && { echo "stand-in nvcc"; exit 0; }\nwhile [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done\nprintf "#!/bin/sh\\n" >"$out"\necho "nvcc $out" >>"$(dirname "$0")/nvcc.log"\n');
        // python3 counts as installed (no apt on this machine's behalf).
        fs.mkdirSync(`${dir}/stub`);
        writeExec(`${dir}/stub/dpkg-query`, "#!/bin/sh\necho 'install ok installed'\n");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** The step as a host runs it (lib.sh in front), with `aihpc_retain` answering `retain` instead of /etc/aihpc/retain. */
    const install = (action: "apply" | "delete", o: { minGemm?: number; retain?: boolean } = {}) => {
        const [lib, body] = stepScript(path.join(ACCEPTANCE, "scripts"), "install.sh").split("\n# ---- install.sh\n");
        // lib.sh's records (aihpc_sync_files) go to the scratch prefix too.
        const text = `${lib}\nAIHPC_STATE=${dir}/state\naihpc_retain() { [ "${o.retain ? "true" : "false"}" = true ]; }\n${body}`;
        const paths = { DEST: `${dir}/lib/acceptance`, CONF_FILE: `${dir}/etc/gpu-acceptance.conf`, LINK: `${dir}/bin-aihpc-gpu-acceptance`, JOBS_DIR: `${dir}/jobs`, PROM_FILE: `${dir}/aihpc_gpu_acceptance.prom` };
        const min = { deviceBandwidth: 0.75, hostDeviceBandwidth: 0.6, gemm: o.minGemm ?? 0.6 };
        const env = action === "apply" ? { FILES: suiteFileSet(), CONF: acceptanceConf(min, "python3"), CUDA_HOME: "" } : {};
        return execFileSync("bash", ["-c", text, "aihpc-step"], {
            encoding: "utf8",
            env: {
                ...env,
                ...paths,
                AIHPC_ACTION: action,
                AIHPC_STEP_NAME: "install",
                NVCC: `${dir}/nvcc`,
                PATH: `${dir}/stub:/usr/bin:/bin`, // no nvidia-smi: the default targets
            },
        });
    };
    const nvccRuns = () => (fs.existsSync(`${dir}/nvcc.log`) ? fs.readFileSync(`${dir}/nvcc.log`, "utf8").trim().split("\n").length : 0);
    const last = (out: string) => out.trim().split("\n").pop();

    test("installs, builds once, changes nothing on a re-run, rewrites only the settings; retain keeps it all, else removes it", () => {
        const first = install("apply");
        expect(last(first)).toBe("aihpc: changed");
        expect(nvccRuns()).toBe(3);
        for (const f of SUITE_FILES) expect(fs.readFileSync(`${dir}/lib/acceptance/${f}`, "utf8")).toBe(fs.readFileSync(path.join(ACCEPTANCE, f), "utf8"));
        expect(fs.statSync(`${dir}/lib/acceptance/scripts/aihpc-gpu-acceptance`).mode & 0o777).toBe(0o755);
        expect(fs.readlinkSync(`${dir}/bin-aihpc-gpu-acceptance`)).toBe(`${dir}/lib/acceptance/scripts/aihpc-gpu-acceptance`);
        expect(fs.readFileSync(`${dir}/etc/gpu-acceptance.conf`, "utf8")).toContain("deviceBandwidth=0.75\nhostDeviceBandwidth=0.6\ngemm=0.6\npython=python3\n");
        expect(fs.existsSync(`${dir}/jobs/gpu-acceptance.sbatch`)).toBe(true);

        expect(install("apply").trim()).toBe("aihpc: unchanged");
        expect(nvccRuns()).toBe(3);

        const third = install("apply", { minGemm: 0.7 });
        expect(third).toContain(`wrote ${dir}/etc/gpu-acceptance.conf`);
        expect(last(third)).toBe("aihpc: changed");
        expect(nvccRuns()).toBe(3); // sources unchanged: no rebuild

        fs.writeFileSync(`${dir}/aihpc_gpu_acceptance.prom`, "stale\n");
        const kept = install("delete", { retain: true });
        expect(kept).toContain("retain: keeping the acceptance suite");
        expect(last(kept)).toBe("aihpc: unchanged");
        expect(fs.existsSync(`${dir}/lib/acceptance/bin/aihpc-gemm`)).toBe(true);

        expect(last(install("delete"))).toBe("aihpc: changed");
        for (const p of ["lib", "etc/gpu-acceptance.conf", "bin-aihpc-gpu-acceptance", "jobs/gpu-acceptance.sbatch", "aihpc_gpu_acceptance.prom"]) {
            expect(fs.existsSync(`${dir}/${p}`)).toBe(false);
        }
        expect(install("delete").trim()).toBe("aihpc: unchanged");
    });
});

describe("runner, with stand-in programs replaying the H200 run", () => {
    let dir: string;
    const device = `grep -m1 '"type":"device"' '${FIXTURE}'`;
    beforeEach(() => {
        dir = scratch();
        fs.mkdirSync(`${dir}/bin`);
        writeExec(`${dir}/bin/aihpc-membw`, `#!/bin/sh\ncase " $* " in *" --list "*) echo '{"type":"device_count","count":1}'; exit 0;; esac\n${device}\ncase " $* " in *" --info "*) exit 0;; esac\ngrep '"name":"device_' '${FIXTURE}'\n`);
        writeExec(`${dir}/bin/aihpc-hostbw`, `#!/bin/sh\n${device}\ngrep -E '"name":"(h2d|d2h)_' '${FIXTURE}'\n`);
        writeExec(`${dir}/bin/aihpc-gemm`, `#!/bin/sh\n${device}\ngrep '"name":"gemm_' '${FIXTURE}'\n`);
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const runner = (args: string[], extraEnv: Record<string, string> = {}) =>
        spawnSync(path.join(ACCEPTANCE, "scripts/aihpc-gpu-acceptance"), args, {
            encoding: "utf8",
            env: { ...process.env, AIHPC_ACCEPTANCE_BIN: `${dir}/bin`, AIHPC_ACCEPTANCE_PYTHON: `${dir}/no-python`, AIHPC_ACCEPTANCE_CONF: `${dir}/none.conf`, ...extraEnv },
        });

    test("assembles the report and the metrics; the PyTorch check is skipped without torch", () => {
        const r = runner(["--json", `${dir}/r.json`, "--prom", `${dir}/r.prom`, "--raw", `${dir}/raw.jsonl`]);
        expect(r.stderr).toContain("PyTorch check skipped");
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("GPU acceptance: PASS");
        const report = JSON.parse(fs.readFileSync(`${dir}/r.json`, "utf8"));
        expect(report.gpus[0].measurements.map((m: any) => m.name)).toHaveLength(12);
        expect(report.host).toBe(os.hostname());
        expect(fs.readFileSync(`${dir}/r.prom`, "utf8")).toContain('aihpc_gpu_acceptance_run_passed{status="pass"} 1');
        expect(fs.readFileSync(`${dir}/raw.jsonl`, "utf8")).toMatch(/"type":"run"/);
    });

    test("thresholds from the conf file; a crashed program is an error and fails the run", () => {
        fs.writeFileSync(`${dir}/acc.conf`, "# test\ngemm=0.8\n");
        expect(runner([], { AIHPC_ACCEPTANCE_CONF: `${dir}/acc.conf` }).stdout).toMatch(/gemm_fp32: 51.2822 TFLOP\/s is 0.765 of peak 67, below 0.8/);
        writeExec(`${dir}/bin/aihpc-gemm`, `#!/bin/sh\n${device}\necho 'gemm.cu:170: cublasCreate(&handle) failed: CUBLAS_STATUS_NOT_INITIALIZED' >&2\nexit 1\n`);
        const r = runner(["--json", `${dir}/r.json`]);
        expect(r.status).toBe(1);
        const report = JSON.parse(fs.readFileSync(`${dir}/r.json`, "utf8"));
        expect(report.errors[0]).toMatchObject({ program: "gemm", status: 1, message: "gemm exited with status 1: gemm.cu:170: cublasCreate(&handle) failed: CUBLAS_STATUS_NOT_INITIALIZED" });
        expect(report.gpus[0].reasons).toContain("gemm_bf16: not measured");
    });

    test("no CUDA device: an error report, exit 1", () => {
        writeExec(`${dir}/bin/aihpc-membw`, "#!/bin/sh\necho 'common.h:70: cudaGetDeviceCount(&count) failed: cudaErrorNoDevice (no CUDA-capable device is detected)' >&2\nexit 1\n");
        const r = runner(["--json", `${dir}/r.json`]);
        expect(r.status).toBe(1);
        const report = JSON.parse(fs.readFileSync(`${dir}/r.json`, "utf8"));
        expect(report.gpus).toEqual([]);
        expect(report.errors[0].message).toMatch(/^no CUDA device visible: .*cudaErrorNoDevice/);
    });

    test("usage errors exit 2", () => {
        expect(runner(["--bogus"]).status).toBe(2);
        expect(runner(["--devices", "0,x"]).status).toBe(2);
    });
});
