// The hybrid scripts as hosts run them (the step scripts' lib.sh and
// shellcheck checks: tests/unit/steps/scripts.test.ts); the installed programs (aihpc-burst,
// aihpc-data-sync) run for real here against the env file the stack writes.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { withGcp } from "../../helpers/fixtures";
import { runProgram } from "../../helpers/harness";
import { stepReceived } from "../../helpers/steps";
import { requireTool } from "../../helpers/tools";

const ROOT = path.resolve(__dirname, "..", "..", "..", "components", "hybrid");
const PROGRAMS = [
    path.join(ROOT, "burst", "scripts", "aihpc-burst"),
    path.join(ROOT, "data", "scripts", "aihpc-data-sync"),
    path.join(ROOT, "burst", "templates", "train.sbatch"),
    ...["resume", "suspend", "resume-fail"].map((p) => path.join(ROOT, "cloud-nodes", "scripts", `aihpc-cloud-${p}`)),
];

/** A variable as the step's script sees it (from its command, stdin payload or the bundle). */
function envOf(inputs: Record<string, any>, name: string): string {
    const v = stepReceived(inputs).vars[name];
    if (v === undefined) throw new Error(`${name} not among the step's inputs`);
    return v;
}

describe("step scripts", () => {
    test.each(PROGRAMS.map((p) => [path.relative(ROOT, p), p]))("installed program %s is shellcheck-clean", (_n, p) => {
        const r = spawnSync(requireTool("shellcheck"), [p], { encoding: "utf8" });
        expect(r.stdout).toBe("");
    });

    test("the key is read from stdin, never from a variable", () => {
        const text = fs.readFileSync(path.join(ROOT, "identity", "scripts", "credentials.sh"), "utf8");
        expect(text).toContain('key="$(cat)"');
        expect(text).not.toMatch(/\$\{?KEY_PEM|PRIVATE_KEY=/);
    });
});

describe("installed programs, run for real against the stack's env file", () => {
    let tmp: string;
    let envFile: string;
    beforeAll(async () => {
        requireTool("jq");
        const run = await runProgram(withGcp());
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-hybrid-"));
        envFile = path.join(tmp, "hybrid.env");
        fs.writeFileSync(envFile, `${envOf(run.inputsOf("hybrid-data-ws1-env"), "ENV_FILE")}\n`);
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const sh = (prog: string, args: string[], env: Record<string, string> = {}) =>
        spawnSync("/bin/bash", [path.join(ROOT, prog), ...args], { encoding: "utf8", env: { ...process.env, AIHPC_ENV_FILE: envFile, PATH: "/usr/bin:/bin", ...env } });

    test("aihpc-burst --dry-run prints a Vertex AI custom job with the stack's values", () => {
        const r = sh("burst/scripts/aihpc-burst", ["--dry-run", "--name", "Alice_Run.1", "--", "--steps", "5", "--lr", "0.1"]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const job = JSON.parse(r.stdout);
        const env = fs.readFileSync(envFile, "utf8");
        const v = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(env)![1];
        expect(job.displayName).toBe("aihpc-alice-run-1");
        expect(job.labels).toEqual({ "aihpc-run": "alice-run-1", "aihpc-experiment": "aihpc", "managed-by": "aihpc-burst" });
        const pool = job.jobSpec.workerPoolSpecs[0];
        expect(pool.machineSpec).toEqual({ machineType: "g2-standard-8", acceleratorType: "NVIDIA_L4", acceleratorCount: 1 });
        expect(pool.replicaCount).toBe("1");
        expect(pool.containerSpec.imageUri).toBe(v("AIHPC_IMAGE"));
        expect(pool.containerSpec.imageUri).toMatch(/@sha256:[0-9a-f]{64}$/);
        expect(pool.containerSpec.command).toEqual(["python", "/workspace/train.py"]);
        expect(pool.containerSpec.args).toEqual(["--steps", "5", "--lr", "0.1"]);
        expect(pool.containerSpec.env).toEqual(
            expect.arrayContaining([
                { name: "AIHPC_EXPERIMENT", value: "aihpc" },
                { name: "AIHPC_RUN", value: "alice-run-1" },
                { name: "AIHPC_TENSORBOARD", value: v("AIHPC_TENSORBOARD") },
                { name: "AIHPC_DATASETS_DIR", value: `/gcs/${v("AIHPC_DATASETS_BUCKET").replace("gs://", "")}` },
            ]),
        );
        expect(job.jobSpec.serviceAccount).toBe(v("AIHPC_TRAINING_SA"));
        expect(job.jobSpec.baseOutputDirectory).toEqual({ outputUriPrefix: `${v("AIHPC_CHECKPOINTS_BUCKET")}/vertex/alice-run-1` });
        expect(job.jobSpec.tensorboard).toBe(v("AIHPC_TENSORBOARD"));
        expect(job.jobSpec.scheduling).toBeUndefined();
    });

    test("aihpc-burst options override the stack's machine; spot adds the scheduling strategy; odd arguments survive", () => {
        const r = sh("burst/scripts/aihpc-burst", ["--dry-run", "--machine-type", "a2-highgpu-2g", "--accelerator", "NVIDIA_TESLA_A100:2", "--spot"]);
        expect(r.status).toBe(0);
        const job = JSON.parse(r.stdout);
        expect(job.jobSpec.workerPoolSpecs[0].machineSpec).toEqual({ machineType: "a2-highgpu-2g", acceleratorType: "NVIDIA_TESLA_A100", acceleratorCount: 2 });
        expect(job.jobSpec.scheduling).toEqual({ strategy: "SPOT" });
        expect(job.jobSpec.workerPoolSpecs[0].containerSpec.args).toEqual([]);
        const odd = ["--note", "it's \"quoted\" $HOME", "", "a\nb"];
        const r2 = sh("burst/scripts/aihpc-burst", ["--dry-run", "--", ...odd]);
        expect(JSON.parse(r2.stdout).jobSpec.workerPoolSpecs[0].containerSpec.args).toEqual(odd);
    });

    test("aihpc-burst fails clearly: no env file, a bad accelerator count, no gcloud to submit with", () => {
        let r = sh("burst/scripts/aihpc-burst", ["--dry-run"], { AIHPC_ENV_FILE: path.join(tmp, "missing") });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/missing: the workstation is not bridged to Google Cloud/);
        r = sh("burst/scripts/aihpc-burst", ["--dry-run", "--accelerator", "NVIDIA_L4:x"]);
        expect(r.stderr).toMatch(/accelerator count 'x' is not a positive number/);
        // A PATH with the tools the script needs but no gcloud.
        const bin = path.join(tmp, "bin");
        fs.mkdirSync(bin, { recursive: true });
        for (const t of ["jq", "tr", "cut", "date", "id", "sed"]) {
            const where = spawnSync("sh", ["-c", `command -v ${t}`], { encoding: "utf8" }).stdout.trim();
            if (!fs.existsSync(path.join(bin, t))) fs.symlinkSync(where, path.join(bin, t));
        }
        r = sh("burst/scripts/aihpc-burst", [], { PATH: bin });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/gcloud is not installed/);
    });

    test("aihpc-data-sync --dry-run names the stack's buckets and directories", () => {
        const r = sh("data/scripts/aihpc-data-sync", ["--dry-run"]);
        expect(r.status).toBe(0);
        const host = spawnSync("hostname", ["-s"], { encoding: "utf8" }).stdout.trim();
        expect(r.stdout.trim().split("\n")).toEqual([
            "would run: gcloud storage rsync --recursive gs://aihpc-test-datasets-test-project-1 /srv/aihpc/datasets",
            `would run: gcloud storage rsync --recursive /srv/aihpc/checkpoints gs://aihpc-test-checkpoints-test-project-1/workstation/${host}`,
        ]);
        expect(sh("data/scripts/aihpc-data-sync", ["--dry-run", "push"]).stdout).not.toContain("datasets");
    });
});
