// What the GPU stack writes: module files, daemon.json, GRES from the H200's
// real nvidia-smi output, the GPU dashboard, and config checks.
import * as fs from "fs";
import * as path from "path";
import { daemonJson } from "../../../components/workstation/containers";
import { cudaModuleFile, cudaModuleFiles, cudaSource, driverPin, exactDriverPins, NOUVEAU_BLACKLIST, withGpus } from "../../../components/workstation/nvidia";
import { parseFileSet } from "../../../components/steps";
import { gpuDashboards, gpuExporterMode, isDataCentreGpu, prometheusConfig, DATASOURCE_UID } from "../../../components/workstation/monitoring";
import { gresConf, nodeGpus, slurmConf, slurmNode } from "../../../components/workstation/slurm/conf";
import { lockFor, readLock, torchCudaTag, torchLocks } from "../../../components/workstation/ml-runtime";
import { configProblems, parseConfig, runProgram } from "../../helpers/harness";
import { stepReceived } from "../../helpers/steps";
import { oneHost, twoHosts } from "../../helpers/fixtures";
import { factsHook, recordedFacts } from "./facts";

const verifyH200 = fs.readFileSync(path.join(__dirname, "fixtures", "verify-h200.txt"), "utf8");

function problems(edit: (raw: any) => void): string {
    const raw = oneHost();
    edit(raw);
    return configProblems(raw).join("\n");
}

describe("CUDA module files (lmod)", () => {
    test("one Lua file per version: paths, CUDA_HOME, a clear error when the toolkit is missing", () => {
        const f = cudaModuleFile("12.8");
        expect(f).toContain('local root = "/usr/local/cuda-12.8"');
        expect(f).toContain('setenv("CUDA_HOME", root)');
        expect(f).toContain('prepend_path("PATH", pathJoin(root, "bin"))');
        expect(f).toContain('prepend_path("LD_LIBRARY_PATH", pathJoin(root, "lib64"))');
        expect(f).toContain('family("cuda")');
        expect(f).toContain("LmodError(\"CUDA 12.8 is not installed at \"");
        expect(parseFileSet(cudaModuleFiles(["12.8", "12.6"]))).toEqual({ "12.6.lua": cudaModuleFile("12.6"), "12.8.lua": f });
    });
});

describe("NVIDIA apt and modprobe files", () => {
    test("NVIDIA's repository signed by its own verified keyring; nouveau blacklisted", () => {
        expect(cudaSource("https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64")).toBe(
            "# Managed by aihpc (workstation.nvidia.repository)\ndeb [signed-by=/etc/apt/keyrings/aihpc-cuda.gpg] https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/ /",
        );
        expect(NOUVEAU_BLACKLIST).toContain("\nblacklist nouveau\noptions nouveau modeset=0");
    });
});

describe("daemon.json", () => {
    test("data root, json-file rotation, cgroup driver; the nvidia runtime only on GPU hosts, as nvidia-ctk writes it", () => {
        const c = parseConfig(twoHosts()).workstation.containers;
        expect(JSON.parse(daemonJson(c, false))).toEqual({
            "data-root": "/var/lib/docker",
            "exec-opts": ["native.cgroupdriver=systemd"],
            "log-driver": "json-file",
            "log-opts": { "max-size": "50m", "max-file": "5" },
        });
        expect(JSON.parse(daemonJson(c, true)).runtimes).toEqual({ nvidia: { args: [], path: "nvidia-container-runtime" } });
        const raw = twoHosts();
        raw.workstation.containers = { docker: { dataRoot: "/data/docker", logMaxSize: "10m", logMaxFiles: 3, cgroupDriver: "cgroupfs" } };
        const d = JSON.parse(daemonJson(parseConfig(raw).workstation.containers, false));
        expect(d).toMatchObject({ "data-root": "/data/docker", "exec-opts": ["native.cgroupdriver=cgroupfs"], "log-opts": { "max-size": "10m", "max-file": "3" } });
    });
});

describe("GRES from the H200's nvidia-smi (recorded by the verify step there, docs/gpu.md)", () => {
    const cfg = parseConfig(oneHost()).workstation;
    const facts = withGpus(recordedFacts("facts-debian12-2cpu.txt", "ws1"), verifyH200);

    test("the verify step's GPUs replace the probe's (the probe ran before the driver)", () => {
        expect(facts.gpus).toEqual([{ index: 0, name: "NVIDIA H200", uuid: expect.stringMatching(/^GPU-/), memoryMiB: 143771, driverVersion: "580.159.04", busId: "00000000:00:06.0" }]);
        expect(withGpus(recordedFacts("facts-debian12-2cpu.txt", "ws1"), "aihpc: unchanged\n").gpus).toEqual([]);
    });

    test("gres.conf: File=/dev/nvidia0 Type=h200; node line Gres=gpu:h200:1; the epilog in slurm.conf", () => {
        const gpus = nodeGpus(cfg.hosts[0], facts);
        expect(gresConf({ name: "ws1", gpus }, 1)).toBe(
            "# Managed by aihpc (Pulumi): GPUs from nvidia-smi, else workstation.hosts[].gpus.devices.\nNodeName=ws1 Name=gpu Type=h200 File=/dev/nvidia0\n",
        );
        const conf = slurmConf({ config: cfg.slurm, controller: { hostname: "ws1" }, nodes: [slurmNode(cfg.hosts[0], facts, 512)] });
        expect(conf).toContain("Gres=gpu:h200:1");
        expect(conf).toContain("Epilog=/usr/local/sbin/aihpc-gpu-epilog\n");
    });

    test("AutoDetect=nvml only with Debian's NVML plugin (the host's packages step installs it) and NVIDIA device files", () => {
        const gpus = nodeGpus(cfg.hosts[0], facts);
        expect(gresConf({ name: "ws1", gpus }, 1, true).split("\n").slice(0, 3)).toEqual([
            "# Managed by aihpc (Pulumi): GPUs from nvidia-smi, else workstation.hosts[].gpus.devices.",
            "AutoDetect=nvml",
            "NodeName=ws1 Name=gpu Type=h200 File=/dev/nvidia0",
        ]);
        expect(gresConf({ name: "ws1", gpus }, 1, false)).not.toContain("AutoDetect");
        expect(gresConf({ name: "ws1", gpus: [{ type: "fake", file: "/dev/fakegpu0", source: "configured" }] }, 1, true)).not.toContain("AutoDetect");
        // The shell installs the text it gets, less the AutoDetect line where the optional plugin could not be installed.
        const script = fs.readFileSync(path.resolve(__dirname, "../../../components/workstation/slurm/scripts/config.sh"), "utf8");
        expect(script).not.toMatch(/\bsed\b/);
        expect(script.split("\n").filter((l) => /AutoDetect/.test(l) && !l.trim().startsWith("#"))).toEqual([
            `    if ! aihpc_installed slurm-wlm-nvml-plugin; then GRES_CONF="$(printf '%s\\n' "$GRES_CONF" | grep -vx 'AutoDetect=nvml' || true)"; fi`,
        ]);
    });

    test("the config step of a GPU node with the NVML plugin gets AutoDetect=nvml in its gres.conf", async () => {
        const rec = await runProgram(oneHost(), { preview: false, newResource: factsHook({ ws1: "facts-h200.txt" }) });
        expect(stepReceived(rec.inputsOf("ws-slurm-ws1-packages")).vars.OPTIONAL_PACKAGES).toBe("slurm-wlm-nvml-plugin");
        expect(stepReceived(rec.inputsOf("ws-slurm-ws1-config")).vars.GRES_CONF).toContain("\nAutoDetect=nvml\nNodeName=ws1 Name=gpu Type=h200 File=/dev/nvidia0");
    });
});

describe("GPU monitoring", () => {
    test("dcgm-exporter for data-centre GPUs, nvidia-smi collector for RTX and unknown models", () => {
        expect(isDataCentreGpu("NVIDIA H200")).toBe(true);
        expect(isDataCentreGpu("NVIDIA A100-SXM4-80GB")).toBe(true);
        expect(isDataCentreGpu("NVIDIA L4")).toBe(true);
        expect(isDataCentreGpu("NVIDIA RTX A5500")).toBe(false);
        expect(isDataCentreGpu("NVIDIA GeForce RTX 4090")).toBe(false);
        const pinned = oneHost();
        pinned.workstation.monitoring = { dcgmExporter: { image: `nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04@sha256:${"c".repeat(64)}` } };
        const m = parseConfig(pinned).workstation.monitoring;
        const host = (model?: string) => ({ ...parseConfig(oneHost()).workstation.hosts[0], gpus: { count: 1, model } });
        // Containers run by digest only: without a pinned image, `auto` keeps to the nvidia-smi collector.
        expect(gpuExporterMode(parseConfig(oneHost()).workstation.monitoring, host("NVIDIA H200"), true)).toBe("nvidia-smi");
        expect(gpuExporterMode(m, host("NVIDIA H200"), true)).toBe("dcgm");
        expect(gpuExporterMode(m, host("NVIDIA H200"), false)).toBe("nvidia-smi");
        expect(gpuExporterMode(m, host("NVIDIA RTX A5500"), true)).toBe("nvidia-smi");
        expect(gpuExporterMode(m, host(undefined), true)).toBe("nvidia-smi");
    });

    test("Prometheus scrapes dcgm-exporter hosts as job dcgm", () => {
        const m = parseConfig(oneHost()).workstation.monitoring;
        const y = prometheusConfig(m, [{ name: "ws1", address: "10.0.0.11" }], [{ name: "ws1", address: "10.0.0.11" }]);
        expect(y).toContain("job_name: dcgm");
        expect(y).toContain("10.0.0.11:9400");
        expect(prometheusConfig(m, [{ name: "ws1", address: "10.0.0.11" }])).not.toContain("dcgm");
    });

    test("GPU dashboard: valid, on the aihpc datasource, DCGM metric names the collector also writes", () => {
        const collector = fs.readFileSync(path.resolve(__dirname, "../../../components/workstation/monitoring/scripts/gpu-metrics.sh"), "utf8");
        const d = JSON.parse(gpuDashboards()["gpu.json"]);
        expect(d.uid).toBe("aihpc-gpu");
        for (const p of d.panels) {
            expect(p.datasource.uid).toBe(DATASOURCE_UID);
            for (const t of p.targets) {
                for (const name of t.expr.match(/\b(DCGM_[A-Z_]+|aihpc_gpu_[a-z_]+)\b/g) ?? []) expect([p.title, name, collector.includes(name)]).toEqual([p.title, name, true]);
            }
        }
    });

    test("the GPU dashboard ships to Grafana only with GPU hosts", async () => {
        const { runProgram } = await import("../../helpers/harness");
        const withGpu = await runProgram(oneHost(), { preview: false, newResource: factsHook() });
        const { stepReceived } = await import("../../helpers/steps");
        const dashboards = (r: typeof withGpu) => stepReceived(r.inputsOf("ws-monitoring-ws1-grafana-config")).vars.DASHBOARDS;
        expect(dashboards(withGpu)).toMatch(/(^| )gpu\.json=/);
        const raw = oneHost();
        raw.workstation.hosts[0].gpus = { count: 0 };
        const none = await runProgram(raw, { preview: false, newResource: factsHook() });
        expect(dashboards(none)).toMatch(/(^| )node\.json=/);
        expect(dashboards(none)).not.toMatch(/gpu\.json=/);
    }, 30_000);
});

describe("ML runtime lock", () => {
    test("a full hashed PyPI lock for the default torch, named after the CUDA PyPI's wheel is built for", () => {
        const c = parseConfig(oneHost()).workstation;
        expect(torchCudaTag("12.8")).toBe("cu128");
        const { lock, text } = readLock(c.mlRuntime.torch);
        // PyPI's torch 2.7.1 wheel pulls nvidia-cuda-runtime-cu12 12.6: a cu126 build.
        expect(lock).toMatchObject({ torch: "2.7.1", cuda: "12.6", tag: "cu126" });
        expect(text).toContain("nvidia-cuda-runtime-cu12==12.6.");
        expect(text).toMatch(/^torch==2\.7\.1 \\$/m);
        expect(text).toMatch(/^ipykernel==/m);
        // Every requirement is pinned with == and carries at least one sha256; no index lines.
        const reqs = text.split(/\n(?=\S)/).filter((r) => /^[A-Za-z0-9]/.test(r));
        expect(reqs.length).toBeGreaterThan(40);
        for (const r of reqs) {
            expect(r).toMatch(/^[A-Za-z0-9._-]+==[^ ]+ \\\n/);
            expect(r).toMatch(/--hash=sha256:[0-9a-f]{64}/);
        }
        expect(text).not.toMatch(/^\s*-(-index-url|-extra-index-url|i |-find-links)/m);
        // torch's own dependencies are in it (a full lock, not top-level pins).
        for (const dep of ["triton", "nvidia-cudnn-cu12", "sympy", "filelock", "typing-extensions", "setuptools"]) expect(text).toMatch(new RegExp(`^${dep}==`, "m"));
        for (const l of torchLocks()) {
            const cudaRuntime = new RegExp(`^(nvidia-cuda-runtime-cu\\d+|cuda-toolkit)==${l.cuda.replace(".", "\\.")}\\.`, "m");
            expect(readLock(l.torch).text).toMatch(cudaRuntime);
        }
        expect(lockFor("2.8.0")).toMatchObject({ cuda: "12.8", tag: "cu128" });
        expect(() => readLock("2.0.0")).toThrow(/no lock for torch 2\.0\.0 .*tools\/ml-lock\.sh runtime 2\.0\.0/);
    });

    test("a second package index is refused", () => {
        expect(problems((r) => (r.workstation.mlRuntime = { extraIndexUrl: "https://pypi.org/simple" }))).toMatch(/mlRuntime\.extraIndexUrl: a second package index is refused.*dependency confusion/);
    });
});

describe("GPU config checks", () => {
    test("Apptainer needs its sha256; dcgm needs containers; local transport cannot reboot; Debian's driver is 535", () => {
        expect(problems((r) => (r.workstation.containers = { apptainer: { enabled: true } }))).toContain("containers.apptainer.sha256: required when Apptainer is enabled");
        expect(problems((r) => (r.workstation.containers = { apptainer: { enabled: true, sha256: "a".repeat(64) } }))).toBe("");
        expect(problems((r) => Object.assign(r.workstation, { containers: { enabled: false }, monitoring: { gpuExporter: "dcgm" } }))).toContain("'dcgm' runs NVIDIA's dcgm-exporter container");
        // dcgm-exporter by digest only: required with `dcgm`, never a tag alone.
        expect(problems((r) => (r.workstation.monitoring = { gpuExporter: "dcgm" }))).toMatch(/monitoring\.dcgmExporter\.image: required with gpuExporter 'dcgm': the image pinned by digest, nvcr\.io\/nvidia\/k8s\/dcgm-exporter:4\.2\.3-4\.1\.3-ubuntu22\.04@sha256:<digest>/);
        expect(problems((r) => (r.workstation.monitoring = { gpuExporter: "dcgm", dcgmExporter: { image: "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04" } }))).toMatch(/dcgmExporter\.image: expected an image pinned by digest/);
        expect(problems((r) => (r.workstation.monitoring = { gpuExporter: "dcgm", dcgmExporter: { image: `nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04@sha256:${"c".repeat(64)}` } }))).toBe("");
        expect(problems((r) => (r.workstation.nvidia = { driver: { version: "570.124.06" } }))).toContain("Debian 12 ships the 535 branch");
        expect(problems((r) => (r.workstation.nvidia = { driver: { source: "cuda-repo", version: "535.261.03" } }))).toContain("an exact driver version is for source 'debian'");
        expect(problems((r) => (r.workstation.nvidia = { driver: { version: "535.261.03-1+deb12u1" } }))).toBe("");
        expect(problems((r) => (r.workstation.nvidia = { driver: { version: "535.261.03-*" } }))).toContain('expected a driver version such as "535.261.03" or "535.261.03-1"');
        expect(
            problems((r) => {
                r.workstation = { transport: "local", hosts: [{ name: "ws1", gpus: { count: 1 } }], nvidia: { driver: { allowReboot: true } } };
                delete r.sshPrivateKey;
            }),
        ).toContain("cannot reboot itself");
        expect(problems((r) => (r.workstation.nvidia = { driver: { source: "cuda-repo", branch: "570", openKernelModules: true } }))).toBe("");
    });

    test("driver pins", () => {
        const a = parseConfig(oneHost()).workstation.nvidia;
        expect(driverPin(a)).toBe("535.*");
        expect(exactDriverPins(a)).toBe("");
        const exact = oneHost();
        exact.workstation.nvidia = { driver: { version: "535.261.03" } };
        expect(driverPin(parseConfig(exact).workstation.nvidia)).toBe("535.261.03-*");
        expect(exactDriverPins(parseConfig(exact).workstation.nvidia)).toBe("nvidia-kernel-dkms=535.261.03-* nvidia-driver=535.261.03-* nvidia-smi=535.261.03-*");
        const raw = oneHost();
        raw.workstation.nvidia = { driver: { source: "cuda-repo" } };
        expect(driverPin(parseConfig(raw).workstation.nvidia)).toBe("570.*");
    });
});
