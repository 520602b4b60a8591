// Python installs are locked with hashes (issue 11, item 5): the venv step and
// the training image install exactly a committed, fully hashed PyPI lock, from
// one index, and refuse anything else before changing the host.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stepScript } from "../../../components/steps";
import { oneHost } from "../../helpers/fixtures";
import { runProgram } from "../../helpers/harness";
import { requireRoot } from "../../helpers/tools";

const REPO = path.resolve(__dirname, "..", "..", "..");
const VENV_DIR = path.join(REPO, "components", "workstation", "ml-runtime", "scripts");
const TRAINING = path.join(REPO, "components", "hybrid", "images", "training");

/** Requirements of a lock, one block each: `name==version \` and its hash lines. */
function requirements(lock: string): string[] {
    return lock.split(/\n(?=\S)/).filter((r) => /^[A-Za-z0-9]/.test(r));
}

describe("the training image's Python packages", () => {
    test("requirements.lock is a full hashed PyPI lock of the Vertex AI SDK and its dependencies", () => {
        const lock = fs.readFileSync(path.join(TRAINING, "requirements.lock"), "utf8");
        const reqs = requirements(lock);
        expect(reqs.length).toBeGreaterThan(30);
        for (const r of reqs) {
            expect(r).toMatch(/^[A-Za-z0-9._-]+==\S+ \\\n/);
            expect(r).toMatch(/--hash=sha256:[0-9a-f]{64}/);
        }
        const aiplatform = /^ARG AIPLATFORM_VERSION=(\S+)$/m.exec(fs.readFileSync(path.join(TRAINING, "Dockerfile"), "utf8"))![1];
        expect(lock).toMatch(new RegExp(`^google-cloud-aiplatform==${aiplatform.replace(/\./g, "\\.")} `, "m"));
        for (const dep of ["google-cloud-storage", "protobuf", "tensorboard-plugin-profile", "werkzeug"]) expect(lock).toMatch(new RegExp(`^${dep}==`, "m"));
        expect(lock).not.toMatch(/^\s*-(-index-url|-extra-index-url|i |-find-links)/m);
    });

    test("the Dockerfile installs only the lock: hashes required, no dependency resolution, wheels only, PyPI alone, no pip.conf; the base comes in by digest", () => {
        const df = fs.readFileSync(path.join(TRAINING, "Dockerfile"), "utf8");
        const run = df.split("\n").filter((l) => !l.startsWith("#")).join("\n");
        expect(run).toMatch(/PIP_CONFIG_FILE=\/dev\/null pip install [^\n]*\\\n\s+--require-hashes --no-deps --only-binary :all: --index-url https:\/\/pypi\.org\/simple \\\n\s+-r \/tmp\/aihpc-requirements\.lock/);
        expect(run).not.toMatch(/extra-index-url|--trusted-host|pip install [^-\n]*"/);
        // No default base: the stack always passes one pinned by digest (config/hybrid.ts requires it).
        expect(run).toMatch(/^ARG BASE_IMAGE$/m);
    });
});

describe("venv.sh, run for real: refuses an unhashed lock or one with an index of its own, before any change", () => {
    const script = () =>
        stepScript(VENV_DIR, "venv.sh")
            .replace(/\n# Run as `bash lib\.sh[\s\S]*?\nfi\n/, "\n")
            // Reaching the install means the lock was accepted.
            .replace("aihpc_apt_install ml-runtime python3-venv python3-dev\n", 'echo "ACCEPTED"; exit 0\n');
    const run = (lock: string) => {
        requireRoot();
        return spawnSync("bash", ["-c", script(), "aihpc-step"], {
            encoding: "utf8",
            env: { ...process.env, AIHPC_ACTION: "apply", VENV: "/nonexistent/aihpc-venv", LOCK: lock, INDEX_URL: "https://pypi.org/simple", TORCH: "2.7.1", TORCH_CUDA: "12.6", MARKER: "# marker" },
        });
    };
    const hashed = `torch==2.7.1 \\\n    --hash=sha256:${"a".repeat(64)}`;

    test("a hashed lock is accepted", () => {
        expect(run(hashed).stdout).toContain("ACCEPTED");
    });

    test.each([
        ["no hashes", "torch==2.7.1+cu128\nipykernel==6.29.5", /the ML lock has no hashes: regenerate it with tools\/ml-lock\.sh runtime 2\.7\.1/],
        ["an extra index", `--extra-index-url https://evil.example/simple\n${hashed}`, /names a package index of its own/],
        ["an index", `--index-url https://evil.example/simple\n${hashed}`, /names a package index of its own/],
        ["-i", `-i https://evil.example/simple\n${hashed}`, /names a package index of its own/],
        ["find-links", `--find-links /tmp/wheels\n${hashed}`, /names a package index of its own/],
    ])("refused: %s", (_name, lock, message) => {
        const r = run(lock);
        expect(r.status).not.toBe(0);
        expect(r.stdout).not.toContain("ACCEPTED");
        expect(r.stderr).toMatch(message);
    });

    test("pip runs with --require-hashes --no-deps --only-binary from INDEX_URL alone, pip.conf and PIP_* ignored", () => {
        const body = fs.readFileSync(path.join(VENV_DIR, "venv.sh"), "utf8");
        expect(body).toMatch(/args=\(install --no-input --disable-pip-version-check --require-hashes --no-deps --only-binary :all: --index-url "\$INDEX_URL"\)/);
        expect(body).toContain('PIP_CONFIG_FILE=/dev/null "$VENV/bin/pip" "${args[@]}" -r "$VENV/requirements.lock"');
        expect(body).toMatch(/unset "\$v".*compgen -e \| grep '\^PIP_'/);
        expect(body).not.toMatch(/EXTRA_INDEX_URL|--extra-index-url "/);
    });
});

describe("the ML runtime step in the plan", () => {
    test("the lock for the configured torch, from PyPI alone, checked against the CUDA PyPI's wheel carries", async () => {
        const rec = await runProgram(oneHost());
        const create: string = rec.inputsOf("ws-ml-ws1-venv").create;
        expect(create).toContain("INDEX_URL='https://pypi.org/simple'");
        expect(create).toContain("TORCH='2.7.1'");
        expect(create).toContain("TORCH_CUDA='12.6'");
        expect(create).not.toMatch(/EXTRA_INDEX_URL|download\.pytorch\.org/);
        // The lock travels as a bundled file, not in the command.
        expect(create).toMatch(/AIHPC_FILES='[^']*LOCK=\/var\/lib\/aihpc\/bundle\//);
        expect(create).not.toContain("--hash=sha256:");
    }, 60_000);
});

describe("containers by digest", () => {
    test("gpu-exporter.sh refuses a dcgm-exporter image that is not pinned by digest, before any change", () => {
        requireRoot();
        const script = stepScript(path.join(REPO, "components", "workstation", "monitoring", "scripts"), "gpu-exporter.sh")
            .replace(/\n# Run as `bash lib\.sh[\s\S]*?\nfi\n/, "\n")
            .replace("aihpc_require_systemd\n", ":\n")
            .replace("remove_smi\n        command -v docker", 'echo "ACCEPTED"; exit 0\n        command -v docker');
        const run = (image: string) =>
            spawnSync("bash", ["-c", script, "aihpc-step"], { encoding: "utf8", env: { ...process.env, AIHPC_ACTION: "apply", MODE: "dcgm", INTERVAL: "30s", DCGM_UNIT: "[Unit]", IMAGE: image } });
        const tag = "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04";
        const r = run(tag);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain(`dcgm-exporter image '${tag}' is not pinned by digest`);
        expect(run(`${tag}@sha256:${"c".repeat(64)}`).stdout).toContain("ACCEPTED");
    });
});
