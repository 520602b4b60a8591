// The GPU stack (issue 6) under the SDK mocks: NVIDIA driver + CUDA + module
// files, containers, ML runtime, GPU parts of Slurm and monitoring, acceptance
// wiring. Facts come from recorded probes (fixtures/), the H200's included.
import { containsSecret, Recorded, runProgram } from "../../helpers/harness";
import { twoHosts } from "../../helpers/fixtures";
import { NewResourceArgs, UNKNOWN_VALUE } from "../../../tools/plan/recorder";
import { stepReceived, stepText } from "../../helpers/steps";
import { recordedFacts } from "./facts";
import { waitRebootEnv } from "../../../components/workstation/nvidia";
import * as fs from "fs";
import * as path from "path";

const STEP = "command:remote:Command";
const verifyH200 = fs.readFileSync(path.join(__dirname, "fixtures", "verify-h200.txt"), "utf8");

/** ws1: the H200 machine's probe; ws2: the 2-CPU Debian probe. The verify step prints what it printed on the H200. */
function hook(args: NewResourceArgs): Record<string, unknown> | undefined {
    const m = /^ws-(.+)-facts$/.exec(args.name);
    if (m) return { stdout: recordedFacts(m[1] === "ws1" ? "facts-h200.txt" : "facts-debian12-2cpu.txt", m[1]), stderr: "" };
    if (/^ws-nvidia-ws1-verify$/.test(args.name)) return { stdout: verifyH200, stderr: "" };
    return undefined;
}

function gpuStack(): Record<string, any> {
    const raw = twoHosts();
    raw.workstation.hosts[0].gpus = { count: 1, model: "NVIDIA H200" };
    raw.workstation.hosts[1].gpus = { count: 0 };
    raw.workstation.base = { users: [{ name: "alice", uid: 2001 }] };
    return raw;
}

const run = (raw: Record<string, any>) => runProgram(raw, { preview: false, newResource: hook });
const steps = (rec: Recorded, prefix: string) =>
    rec
        .ofType(STEP)
        .map((r) => r.name)
        .filter((n) => n.startsWith(prefix))
        .sort();
/** The command with the text of every file the step receives (see tests/helpers/steps.ts). */
const create = (rec: Recorded, n: string): string => stepText(rec.inputsOf(n));

function changedSteps(a: Recorded, b: Recorded): string[] {
    const x = new Map(a.ofType(STEP).map((r) => [r.name, JSON.stringify(a.inputsOf(r.name))]));
    const y = new Map(b.ofType(STEP).map((r) => [r.name, JSON.stringify(b.inputsOf(r.name))]));
    const names = new Set([...x.keys(), ...y.keys()]);
    return [...names].filter((k) => x.get(k) !== y.get(k)).sort();
}

describe("GPU stack: which steps exist where", () => {
    let rec: Recorded;
    beforeAll(async () => {
        rec = await run(gpuStack());
    });

    test("NVIDIA steps only on the GPU host, in order", () => {
        expect(steps(rec, "ws-nvidia-ws1-")).toEqual(
            ["apt-pin", "cuda-12-8", "cuda-modules", "cuda-repo", "driver", "nouveau", "reboot", "retain", "verify"].map((s) => `ws-nvidia-ws1-${s}`),
        );
        expect(steps(rec, "ws-nvidia-ws2-")).toEqual([]);
        const deps = (n: string) => rec.named(n).dependencies;
        const urn = (n: string) => rec.named(n).urn;
        expect(deps("ws-nvidia-ws1-driver")).toEqual(expect.arrayContaining([urn("ws-nvidia-ws1-cuda-repo"), urn("ws-nvidia-ws1-nouveau")]));
        expect(deps("ws-nvidia-ws1-cuda-repo")).toEqual(expect.arrayContaining([urn("ws-nvidia-ws1-apt-pin")]));
        expect(deps("ws-nvidia-ws1-verify")).toEqual(expect.arrayContaining([urn("ws-nvidia-ws1-reboot")]));
        expect(deps("ws-nvidia-ws1-cuda-modules")).toEqual(expect.arrayContaining([urn("ws-nvidia-ws1-cuda-12-8")]));
    });

    test("containers on every host, the NVIDIA toolkit only on the GPU host; apptainer off by default", () => {
        expect(steps(rec, "ws-containers-ws1-")).toEqual(["ws-containers-ws1-docker", "ws-containers-ws1-nvidia-toolkit", "ws-containers-ws1-retain"]);
        expect(steps(rec, "ws-containers-ws2-")).toEqual(["ws-containers-ws2-docker", "ws-containers-ws2-retain"]);
    });

    test("ML runtime and acceptance on the GPU host; the acceptance suite uses the venv's python and the default CUDA", () => {
        expect(steps(rec, "ws-ml-")).toEqual(["ws-ml-ws1-jupyter-kernel", "ws-ml-ws1-retain", "ws-ml-ws1-venv"]);
        expect(steps(rec, "ws-acceptance-")).toEqual(["ws-acceptance-ws1", "ws-acceptance-ws1-retain"]);
        const acc = create(rec, "ws-acceptance-ws1");
        expect(acc).toContain("\npython=/opt/aihpc/ml/bin/python");
        expect(acc).toContain("CUDA_HOME='/usr/local/cuda-12.8'");
        const deps = rec.named("ws-acceptance-ws1").dependencies;
        expect(deps).toEqual(expect.arrayContaining([rec.named("ws-nvidia-ws1-cuda-modules").urn, rec.named("ws-ml-ws1-venv").urn]));
    });

    test("each component waits for what it uses on the host: apt, the verified driver, slurmctld", () => {
        const d = (n: string) => rec.named(n).dependencies;
        const u = (n: string) => rec.named(n).urn;
        expect(rec.waitsFor("ws-nvidia-ws1-retain", "ws-ws1-base-packages")).toBe(true);
        expect(rec.waitsFor("ws-containers-ws1-retain", "ws-ws1-base-packages")).toBe(true);
        expect(rec.waitsFor("ws-containers-ws1-docker", "ws-ws1-base-users")).toBe(true);
        expect(d("ws-containers-ws1-nvidia-toolkit")).toEqual(expect.arrayContaining([u("ws-containers-ws1-docker"), u("ws-nvidia-ws1-verify")]));
        expect(rec.waitsFor("ws-ml-ws1-retain", "ws-ws1-base-packages")).toBe(true);
        // Through the one marker of the base system, not its eight steps each (issue 17: dependencies sit in the state).
        expect(d("ws-ml-ws1-retain")).toContain(u("ws-ws1-base-ready"));
        expect(d("ws-ml-ws1-retain")).not.toContain(u("ws-ws1-base-packages"));
        expect(d("ws-slurm-ws1-health")).toEqual(expect.arrayContaining([u("ws-nvidia-ws1-verify")]));
        expect(d("ws-slurm-ws1-config")).toEqual(expect.arrayContaining([u("ws-nvidia-ws1-verify")]));
        expect(d("ws-monitoring-ws1-gpu-exporter")).toEqual(expect.arrayContaining([u("ws-nvidia-ws1-verify"), u("ws-monitoring-ws1-node-exporter")]));
        expect(d("ws-acceptance-ws1-retain")).toEqual(
            expect.arrayContaining([u("ws-nvidia-ws1-verify"), u("ws-nvidia-ws1-cuda-modules"), u("ws-slurm-ws1-jobs"), u("ws-ml-ws1-venv")]),
        );
    });

    test("the hosts output is what the hosts reported: the probe's facts, the GPUs and driver the verify step found", () => {
        const hosts = rec.outputs.hosts as Record<string, { expectedGpus: number; reported: Record<string, any> }>;
        expect(hosts.ws1.expectedGpus).toBe(1);
        expect(hosts.ws1.reported).toMatchObject({ driver: "580.159.04", cuda: "12.8", gpus: [{ index: 0, name: "NVIDIA H200" }] });
        expect(hosts.ws1.reported.gpus[0].memoryMiB).toBeGreaterThan(140_000);
        expect(hosts.ws2.reported).toMatchObject({ driver: "", gpus: [], cgroup: expect.stringMatching(/^v[12]$/) });
        expect(hosts.ws2.reported.cuda).toBeUndefined();
    });

    test("independence: a step reaches only the components it uses (so a failed PyTorch install holds back only the acceptance suite)", () => {
        const byUrn = new Map(rec.resources.map((r) => [r.urn, r]));
        const closure = (urn: string, seen = new Set<string>()): Set<string> => {
            for (const dep of byUrn.get(urn)?.dependencies ?? []) {
                if (!seen.has(dep)) {
                    seen.add(dep);
                    closure(dep, seen);
                }
            }
            return seen;
        };
        const component = (name: string) => /^ws-(nvidia|containers|ml|slurm|monitoring|acceptance)-/.exec(name)?.[1] ?? (/^ws-ws\d-base-/.test(name) ? "base" : "host");
        // What each component may wait for (besides its own steps and the host's bundle).
        const allowed: Record<string, string[]> = {
            base: ["host"],
            nvidia: ["host", "base"],
            containers: ["host", "base", "nvidia"],
            ml: ["host", "base"],
            slurm: ["host", "base", "nvidia"],
            monitoring: ["host", "base", "nvidia", "containers", "slurm"],
            acceptance: ["host", "base", "nvidia", "slurm", "ml"],
        };
        const seen: Record<string, Set<string>> = {};
        for (const r of rec.ofType(STEP)) {
            const c = component(r.name);
            if (c === "host") continue;
            for (const dep of closure(r.urn)) {
                const other = byUrn.get(dep);
                if (!other?.custom) continue;
                const oc = component(other.name);
                if (oc === c) continue;
                (seen[c] ??= new Set()).add(oc);
                expect([r.name, oc, allowed[c].includes(oc)]).toEqual([r.name, oc, true]);
            }
        }
        // And the edges that matter are there (so the check above is not vacuous).
        expect([...seen.slurm].sort()).toEqual(["base", "host", "nvidia"]);
        expect([...seen.acceptance].sort()).toEqual(["base", "host", "ml", "nvidia", "slurm"]);
    });

    test("switched off: no NVIDIA, container, ML or acceptance steps anywhere", async () => {
        const raw = gpuStack();
        Object.assign(raw.workstation, { nvidia: { enabled: false }, containers: { enabled: false }, mlRuntime: { enabled: false } });
        const r = await run(raw);
        expect(r.ofType(STEP).filter((x) => /^ws-(nvidia|containers|ml|acceptance)-/.test(x.name))).toEqual([]);
        expect(r.ofType(STEP).filter((x) => x.name.endsWith("-gpu-exporter"))).toEqual([]);
    });

    test("driver only (Debian's driver, cuda.versions: []): no CUDA repository, toolkit or module step; the driver waits for the pin and the blacklist", async () => {
        const raw = gpuStack();
        Object.assign(raw.workstation, { nvidia: { cuda: { versions: [] }, driver: { allowReboot: true } }, acceptance: { enabled: false } });
        const r = await run(raw);
        expect(steps(r, "ws-nvidia-ws1-")).toEqual(["apt-pin", "driver", "nouveau", "reboot", "retain", "verify", "wait-reboot"].map((s) => `ws-nvidia-ws1-${s}`));
        const deps = r.named("ws-nvidia-ws1-driver").dependencies;
        expect(deps).toEqual(expect.arrayContaining([r.named("ws-nvidia-ws1-apt-pin").urn, r.named("ws-nvidia-ws1-nouveau").urn]));
        expect(r.ofType(STEP).filter((x) => /cuda/.test(x.name))).toEqual([]);
    });

    test("driver only: the acceptance suite needs a toolkit; a CUDA repository driver still uses the repository", async () => {
        const raw = gpuStack();
        Object.assign(raw.workstation, { nvidia: { cuda: { versions: [] } } });
        await expect(run(raw)).rejects.toThrow(/workstation\.nvidia\.cuda\.versions.*the GPU acceptance suite builds CUDA code/);
        Object.assign(raw.workstation, { nvidia: { cuda: { versions: [] }, driver: { source: "cuda-repo", branch: "570" } }, acceptance: { enabled: false } });
        const r = await run(raw);
        expect(steps(r, "ws-nvidia-ws1-")).toEqual(["apt-pin", "cuda-repo", "driver", "nouveau", "reboot", "retain", "verify"].map((s) => `ws-nvidia-ws1-${s}`));
    });

    test("no GPU host: the NVIDIA and ML components create nothing", async () => {
        const raw = gpuStack();
        raw.workstation.hosts[0].gpus = { count: 0 };
        const r = await run(raw);
        expect(r.ofType(STEP).filter((x) => /^ws-(nvidia|ml|acceptance)-/.test(x.name))).toEqual([]);
    });
});

describe("Slurm's NVML plugin", () => {
    test("on the GPU host with Debian's driver it is optional (installed when apt can), never in PACKAGES", async () => {
        const rec = await run(gpuStack());
        expect(stepReceived(rec.inputsOf("ws-slurm-ws1-packages")).vars).toMatchObject({ OPTIONAL_PACKAGES: "slurm-wlm-nvml-plugin", PACKAGES: expect.not.stringContaining("nvml") });
        expect(stepReceived(rec.inputsOf("ws-slurm-ws2-packages")).vars.OPTIONAL_PACKAGES).toBeUndefined();
    });
});

describe("installed versions as stack outputs", () => {
    test("hosts.<name>.installedPackages: what the verify and docker steps found installed, not the config", async () => {
        const rec = await runProgram(gpuStack(), {
            preview: false,
            newResource: (args) => {
                if (args.name === "ws-nvidia-ws1-verify") return { stdout: `${verifyH200}installed_package=nvidia-driver=535.309.01-0+deb12u1\naihpc: unchanged\n`, stderr: "" };
                if (/^ws-containers-ws\d-docker$/.test(args.name)) return { stdout: "installed_package=docker.io=20.10.24+dfsg1-1+deb12u1+b6\naihpc: unchanged\n", stderr: "" };
                return hook(args);
            },
        });
        const hosts = rec.outputs.hosts as Record<string, { installedPackages: Record<string, string> }>;
        expect(hosts.ws1.installedPackages).toEqual({ "nvidia-driver": "535.309.01-0+deb12u1", "docker.io": "20.10.24+dfsg1-1+deb12u1+b6" });
        expect(hosts.ws2.installedPackages).toEqual({ "docker.io": "20.10.24+dfsg1-1+deb12u1+b6" });
        // In a preview nothing is installed yet: unknown, and the host's other outputs stay known.
        const preview = await runProgram(gpuStack(), { newResource: hook });
        const planned = preview.outputs.hosts as Record<string, Record<string, unknown>>;
        expect(planned.ws1).toMatchObject({ roles: ["controller", "compute"], expectedGpus: 1, installedPackages: UNKNOWN_VALUE });
    });
});

describe("pinned versions in the command strings", () => {
    let rec: Recorded;
    beforeAll(async () => {
        rec = await run(gpuStack());
    });

    test("Debian driver: the branch pinned (535.*, its security builds taken), NVIDIA's repository kept out, no exact pin", () => {
        const pin = stepReceived(rec.inputsOf("ws-nvidia-ws1-apt-pin")).vars.PIN;
        expect(pin.split("\n\n")).toEqual([
            expect.stringMatching(/\nPin: origin "developer\.download\.nvidia\.com"\nPin-Priority: -1$/),
            expect.stringMatching(/^Explanation: source debian: branch 535 \(535\.\*\), its new builds as they come\nPackage: nvidia-\* libnvidia-\* .*\nPin: version 535\.\*\nPin-Priority: 1001$/),
        ]);
        const d = create(rec, "ws-nvidia-ws1-driver");
        expect(d).toContain("DRIVER_SOURCE='debian'");
        expect(d).toContain("DRIVER_MATCH='535.*'");
        expect(create(rec, "ws-nvidia-ws1-apt-pin")).not.toContain("EXACT_PINS=");
        expect(d).toContain('"nvidia-driver=$ver"');
        expect(d).toContain("aihpc_apt_install_pinned");
        expect(d).toContain("SECURE_BOOT='legacy-bios'");
    });

    test("Debian driver with an exact opt-in: the pin and the driver step carry it", async () => {
        for (const [version, glob] of [
            ["535.261.03", "535.261.03-*"],
            ["535.261.03-1", "535.261.03-1"],
        ]) {
            const raw = gpuStack();
            raw.workstation.nvidia = { driver: { version } };
            const r = await run(raw);
            expect(stepReceived(r.inputsOf("ws-nvidia-ws1-apt-pin")).vars.PIN).toContain(`Explanation: source debian: the exact version ${glob} (opt-in: newer builds are held back)`);
            expect(stepReceived(r.inputsOf("ws-nvidia-ws1-apt-pin")).vars.PIN).toContain(`\nPin: version ${glob}\n`);
            expect(stepReceived(r.inputsOf("ws-nvidia-ws1-apt-pin")).vars.EXACT_PINS).toBe(`nvidia-kernel-dkms=${glob} nvidia-driver=${glob} nvidia-smi=${glob}`);
            expect(stepReceived(r.inputsOf("ws-nvidia-ws1-driver")).vars.DRIVER_MATCH).toBe(glob);
        }
    });

    test("cuda-repo driver: branch 570 with open modules", async () => {
        const raw = gpuStack();
        raw.workstation.nvidia = { driver: { source: "cuda-repo", branch: "575", openKernelModules: true } };
        const r = await run(raw);
        expect(stepReceived(r.inputsOf("ws-nvidia-ws1-apt-pin")).vars.PIN).toBe(
            "# Managed by aihpc (workstation.nvidia.driver)\nExplanation: source cuda-repo: branch 575 (575.*), its new builds as they come\n" +
                "Package: nvidia-* libnvidia-* libcuda1 libcudadebugger1 libnvcuvid1 libnvoptix1 libgles-nvidia* libegl-nvidia* libglx-nvidia* libgl1-nvidia* firmware-nvidia-* xserver-xorg-video-nvidia* cuda-drivers-*\n" +
                "Pin: version 575.*\nPin-Priority: 1001",
        );
        expect(create(r, "ws-nvidia-ws1-driver")).toContain("DRIVER_BRANCH='575'");
        expect(create(r, "ws-nvidia-ws1-driver")).toContain("OPEN_MODULES='true'");
        expect(create(r, "ws-nvidia-ws1-driver")).toContain('meta="nvidia-open-$DRIVER_BRANCH"');
        // NVIDIA's key itself (no cuda-keyring .deb), checked against the pinned fingerprint set before use.
        expect(create(r, "ws-nvidia-ws1-cuda-repo")).toContain("KEY_FILE='3bf863cc.pub'");
        expect(create(r, "ws-nvidia-ws1-cuda-repo")).toContain("FINGERPRINTS='EB693B3035CD5710E231E123A4B469963BF863CC'");
        expect(create(r, "ws-nvidia-ws1-cuda-repo")).not.toMatch(/cuda-keyring_|dpkg -i/);
    });

    test("CUDA, cuDNN and NCCL pinned; container toolkit and docker pinned", async () => {
        const raw = gpuStack();
        raw.workstation.nvidia = { cuda: { versions: ["12.8", "12.6"], default: "12.8", cudnn: true, nccl: true } };
        const r = await run(raw);
        const c = create(r, "ws-nvidia-ws1-cuda-12-6");
        expect(c).toContain("CUDA_VERSION='12.6'");
        expect(c).toContain('want=("cuda-toolkit-$dash")');
        expect(c).toContain("CUDNN_VERSION='9.8.0.87'");
        expect(c).toContain("NCCL_VERSION='2.26.2'");
        expect(c).toContain('"libnccl2=$NCCL_VERSION-1+cuda$CUDA_VERSION"');
        const toolkit = create(rec, "ws-containers-ws1-nvidia-toolkit");
        expect(toolkit).toContain("PACKAGES='nvidia-container-toolkit=1.17.8-* nvidia-container-toolkit-base=1.17.8-* libnvidia-container-tools=1.17.8-* libnvidia-container1=1.17.8-*'");
        // The pin and the source, rendered in containers/files.ts, on the step's stdin.
        expect(toolkit).toContain("Pin: version 1.17.8-*\nPin-Priority: 1001");
        expect(toolkit).toContain("deb [signed-by=/etc/apt/keyrings/aihpc-nvidia-container-toolkit.gpg] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /");
        // docker.io follows its line; an exact version only as an opt-in.
        expect(stepReceived(rec.inputsOf("ws-containers-ws1-docker")).vars).toMatchObject({
            DOCKER_PACKAGE: "docker.io=20.10.*",
            PIN: expect.stringContaining("Package: docker.io\nPin: version 20.10.*\nPin-Priority: 1001"),
        });
        expect(stepReceived(rec.inputsOf("ws-containers-ws1-docker")).vars.EXACT_PINS).toBeUndefined();
        const exact = gpuStack();
        exact.workstation.containers = { docker: { version: "20.10.24" } };
        expect(stepReceived((await run(exact)).inputsOf("ws-containers-ws1-docker")).vars).toMatchObject({ DOCKER_PACKAGE: "docker.io=20.10.24+*", EXACT_PINS: "docker.io=20.10.24+*" });
    });

    test("no secret in any command string of the GPU stack; no secret on stdin", () => {
        for (const r of rec.ofType(STEP).filter((x) => /^ws-(nvidia|containers|ml|acceptance)-/.test(x.name) || x.name.endsWith("-gpu-exporter"))) {
            for (const f of ["create", "update", "delete"]) expect([r.name, f, containsSecret(r.inputs[f])]).toEqual([r.name, f, false]);
            const i = rec.inputsOf(r.name);
            expect(containsSecret(r.inputs.stdin)).toBe(false);
            expect(stepReceived(i).stdin).toBeUndefined();
            expect(JSON.stringify([i.create, i.delete, i.stdin])).not.toContain("PRIVATE KEY");
        }
    });
});

describe("fine-grained triggers for the GPU stack", () => {
    let before: Recorded;
    beforeAll(async () => {
        before = await run(gpuStack());
    });

    test("the same config twice: nothing changes", async () => {
        expect(changedSteps(before, await run(gpuStack()))).toEqual([]);
    });

    test("adding a CUDA version: only that CUDA step (new) and the module files", async () => {
        const raw = gpuStack();
        raw.workstation.nvidia = { cuda: { versions: ["12.8", "12.9"] } };
        expect(changedSteps(before, await run(raw))).toEqual(["ws-nvidia-ws1-cuda-12-9", "ws-nvidia-ws1-cuda-modules"]);
    });

    test("replacing the CUDA version: the old CUDA step goes, the new comes, module files, and what is built for it (torch, acceptance)", async () => {
        const raw = gpuStack();
        raw.workstation.nvidia = { cuda: { versions: ["12.9"] } };
        raw.workstation.mlRuntime = { enabled: false };
        const base = gpuStack();
        base.workstation.mlRuntime = { enabled: false };
        const b = await run(base);
        expect(changedSteps(b, await run(raw))).toEqual(["ws-acceptance-ws1", "ws-nvidia-ws1-cuda-12-8", "ws-nvidia-ws1-cuda-12-9", "ws-nvidia-ws1-cuda-modules"]);
    });

    test("the default CUDA only: module files (and the acceptance build)", async () => {
        const a = gpuStack();
        a.workstation.nvidia = { cuda: { versions: ["12.8", "12.9"], default: "12.8" } };
        a.workstation.mlRuntime = { enabled: false };
        const b = gpuStack();
        b.workstation.nvidia = { cuda: { versions: ["12.8", "12.9"], default: "12.9" } };
        b.workstation.mlRuntime = { enabled: false };
        expect(changedSteps(await run(a), await run(b))).toEqual(["ws-acceptance-ws1", "ws-nvidia-ws1-cuda-modules"]);
    });

    test("a driver version: the pin, the driver and the checks after it; no CUDA step", async () => {
        const raw = gpuStack();
        raw.workstation.nvidia = { driver: { version: "535.247.01" } };
        expect(changedSteps(before, await run(raw))).toEqual(["ws-nvidia-ws1-apt-pin", "ws-nvidia-ws1-driver", "ws-nvidia-ws1-reboot", "ws-nvidia-ws1-verify"]);
    });

    test("docker log rotation: only the docker steps", async () => {
        const raw = gpuStack();
        raw.workstation.containers = { docker: { logMaxFiles: 3 } };
        expect(changedSteps(before, await run(raw))).toEqual(["ws-containers-ws1-docker", "ws-containers-ws2-docker"]);
    });

    test("allowReboot adds the wait step with a long SSH dial and re-runs the reboot check", async () => {
        const raw = gpuStack();
        raw.workstation.nvidia = { driver: { allowReboot: true, rebootTimeoutSeconds: 900 } };
        const r = await run(raw);
        // verify's inputs are the same: it only waits for the new step.
        expect(changedSteps(before, r)).toEqual(["ws-nvidia-ws1-reboot", "ws-nvidia-ws1-wait-reboot"]);
        expect(r.inputsOf("ws-nvidia-ws1-wait-reboot").connection).toMatchObject({ dialErrorLimit: 180, perDialTimeout: 10, hostKey: expect.stringMatching(/^ssh-ed25519 /) });
        expect(r.named("ws-nvidia-ws1-verify").dependencies).toContain(r.named("ws-nvidia-ws1-wait-reboot").urn);
    });

    test("allowReboot: the wait step gets the reboot step's boot id and whether it rebooted (its multi-line output is no setting)", async () => {
        const raw = gpuStack();
        raw.workstation.nvidia = { driver: { allowReboot: true } };
        const bootId = "0d3c52a4-7b7e-4f5e-9a61-3c1f2b9e8d11";
        const rebootOut = `boot_id=${bootId}\naihpc: rebooting ws1 in 5 s: nouveau is loaded; \naihpc: changed\n`;
        const r = await runProgram(raw, { preview: false, newResource: (a) => (a.name === "ws-nvidia-ws1-reboot" ? { stdout: rebootOut, stderr: "" } : hook(a)) });
        const cmd = String(r.inputsOf("ws-nvidia-ws1-wait-reboot").create);
        expect(cmd).toContain(`OLD_BOOT_ID='${bootId}'`);
        expect(cmd).toContain("REBOOTED='true'");
        expect(waitRebootEnv(`boot_id=${bootId}\naihpc: no reboot needed\naihpc: unchanged\n`)).toEqual({ OLD_BOOT_ID: bootId, REBOOTED: false });
    });
});
