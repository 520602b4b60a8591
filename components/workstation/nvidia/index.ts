import * as pulumi from "@pulumi/pulumi";
import { versions } from "../../../config/versions";
import { NvidiaConfig } from "../../../config/workstation";
import { Host } from "../host";
import { HostFacts, parseFacts } from "../host/facts";
import { installedPackages } from "../installed";
import { Transport } from "../../steps/host-step";
import { retainStep, scriptStep, stepOptions } from "../../steps";
import { Ready, readyOn } from "../ready";
import { cudaDash, cudaHome, cudaModuleFiles, cudaSource, DRIVER_PIN_PACKAGES, NOUVEAU_BLACKLIST, PATHS } from "./files";

const SCRIPTS = `${__dirname}/scripts`;

export * from "./files";

/** The default CUDA: the configured one, else the first listed (as config/hybrid.ts reads it); none with `cuda.versions: []`. */
export function defaultCuda(c: NvidiaConfig): string | undefined {
    return c.cuda.default ?? c.cuda.versions[0];
}

/** NVIDIA's CUDA repository is needed for a CUDA toolkit, or for the driver with source `cuda-repo`. */
export function needsCudaRepository(c: NvidiaConfig): boolean {
    return c.cuda.versions.length > 0 || c.driver.source === "cuda-repo";
}

/** The driver branch the config asks for. */
export function driverBranch(c: NvidiaConfig): string {
    return c.driver.branch ?? (c.driver.source === "debian" ? versions.debianDriverBranch : versions.cudaRepoDriverBranch);
}

/**
 * The apt preference's `Pin: version` glob: the branch (`535.*`: Debian's builds of it, security ones included, as
 * they come), or with source `debian` an exact opt-in (`535.261.03-*`, or `535.261.03-1` for one build).
 */
export function driverPin(c: NvidiaConfig): string {
    const v = c.driver.source === "debian" ? c.driver.version : undefined;
    if (v === undefined) return `${driverBranch(c)}.*`;
    return v.includes("-") ? v : `${v}-*`;
}

/** The driver packages the driver step installs with the pinned version (source `debian`). */
export const DEBIAN_DRIVER_PACKAGES = ["nvidia-kernel-dkms", "nvidia-driver", "nvidia-smi"] as const;

/** `pkg=glob ...` for an exact opt-in pin (the policy rule `debian-exact-pin-security` reads it); "" for the branch. */
export function exactDriverPins(c: NvidiaConfig): string {
    return c.driver.source === "debian" && c.driver.version !== undefined ? DEBIAN_DRIVER_PACKAGES.map((p) => `${p}=${driverPin(c)}`).join(" ") : "";
}

/** Package names of the driver family, Debian's and NVIDIA's (the same names in both). */
const DRIVER_FAMILY = DRIVER_PIN_PACKAGES.join(" ");

/**
 * /etc/apt/preferences.d/aihpc-nvidia-pin. The driver family at priority 1001 on the pin (so `apt upgrade` takes the
 * line's new builds and nothing else moves it); with source `debian` first a stanza that keeps NVIDIA's CUDA
 * repository (same package names, also 535 builds) out of it: apt gives each version the first stanza that matches.
 */
export function driverPreferences(c: NvidiaConfig): string {
    const pin = driverPin(c);
    const stanzas: string[][] = [];
    if (c.driver.source === "debian") {
        stanzas.push([
            "Explanation: source debian: the driver never from NVIDIA's CUDA repository (workstation.nvidia.repository)",
            `Package: ${DRIVER_FAMILY}`,
            `Pin: origin "${new URL(c.repository).hostname}"`,
            "Pin-Priority: -1",
        ]);
    }
    const what = c.driver.source === "debian" && c.driver.version !== undefined ? `the exact version ${pin} (opt-in: newer builds are held back)` : `branch ${driverBranch(c)} (${pin}), its new builds as they come`;
    stanzas.push([`Explanation: source ${c.driver.source}: ${what}`, `Package: ${DRIVER_FAMILY}`, `Pin: version ${pin}`, "Pin-Priority: 1001"]);
    return `# Managed by aihpc (workstation.nvidia.driver)\n${stanzas.map((l) => l.join("\n")).join("\n\n")}\n`;
}

/**
 * The wait-reboot step's settings from what the reboot step printed: the boot it checked and whether it rebooted.
 * (Its whole output has line breaks, which no setting may carry.)
 */
export function waitRebootEnv(rebootStdout: string): { OLD_BOOT_ID: string; REBOOTED: boolean } {
    return { OLD_BOOT_ID: /^boot_id=(\S*)$/m.exec(rebootStdout)?.[1] ?? "", REBOOTED: /^aihpc: rebooting /m.test(rebootStdout) };
}

/** The probe's facts with its `nvidia_gpu=` lines replaced by those the verify step printed. */
export function withGpus(probe: string, verifyStdout: string | undefined): HostFacts {
    const gpus = (verifyStdout ?? "").split("\n").filter((l) => l.startsWith("nvidia_gpu="));
    if (gpus.length === 0) return parseFacts(probe);
    return parseFacts([...probe.split("\n").filter((l) => !l.startsWith("nvidia_gpu=")), ...gpus].join("\n"));
}

/** What a GPU host reported at the verify step: its driver and GPUs, as nvidia-smi listed them. */
export interface GpuReport {
    driver: string;
    gpus: { index: number; name: string; memoryMiB: number; busId: string }[];
}

export function gpuReport(f: HostFacts): GpuReport {
    return {
        driver: f.gpus[0]?.driverVersion ?? "",
        gpus: f.gpus.map((g) => ({ index: g.index, name: g.name, memoryMiB: g.memoryMiB, busId: g.busId })),
    };
}

export interface NvidiaArgs {
    /** Hosts with GPUs (`gpus.count > 0`); the component installs nothing elsewhere. */
    hosts: Host[];
    config: NvidiaConfig;
    /** The base system in place on each host (see Workstation.baseReady), where the stack manages it. */
    baseReady?: Ready;
}

export interface NvidiaHostSteps {
    retain: pulumi.Resource;
    aptPin: pulumi.Resource;
    /** NVIDIA's CUDA repository; none with source `debian` and no CUDA toolkit (`cuda.versions: []`). */
    repo?: pulumi.Resource;
    nouveau: pulumi.Resource;
    driver: pulumi.Resource;
    reboot: pulumi.Resource;
    /** With allowReboot: reconnects after the reboot (long SSH dial). */
    waitReboot?: pulumi.Resource;
    /** nvidia-smi sees the expected GPUs: what uses the GPU waits for it. */
    verify: pulumi.Resource;
    /** The host's facts with the GPUs as the verify step found them (the probe ran before the driver). */
    facts: pulumi.Output<HostFacts>;
    /** The driver packages' exact versions as the verify step found them installed (dpkg), by package. */
    installed: pulumi.Output<Record<string, string>>;
    /** One step per CUDA version, by version. */
    cuda: Record<string, pulumi.Resource>;
    /** The CUDA module files; none without a CUDA toolkit. */
    modules?: pulumi.Resource;
}

/**
 * NVIDIA driver, CUDA toolkits and their module files on every GPU host.
 * Per host: retain -> apt pin -> CUDA repository -> nouveau blacklist -> driver
 * -> reboot (if needed) [-> wait for SSH] -> verify; and CUDA repository ->
 * one step per CUDA version -> module files. A CUDA change touches only the
 * CUDA and module steps; a driver version change only the pin and the driver.
 * With `cuda.versions: []` and Debian's driver, NVIDIA's repository is not
 * used at all: no repository, CUDA or module step (a driver-only host).
 */
export class Nvidia extends pulumi.ComponentResource {
    public readonly steps: Record<string, NvidiaHostSteps>;
    public readonly defaultCuda: string | undefined;
    /** Where the default CUDA toolkit lives on every GPU host (none without a CUDA toolkit). */
    public readonly cudaHome: string | undefined;
    /** The driver loaded and nvidia-smi seeing the expected GPUs, by host. */
    public readonly gpuReady: Ready;
    /** Every configured CUDA toolkit and its module files installed, by host. */
    public readonly cudaReady: Ready;
    /** Each host's facts with its GPUs as found once the driver runs (the probe ran before it), by host. */
    public readonly gpuFacts: Record<string, pulumi.Output<HostFacts>>;
    /** What each GPU host reported: driver version and GPUs (nvidia-smi, at the verify step). */
    public readonly reported: pulumi.Output<Record<string, GpuReport>>;

    constructor(name: string, args: NvidiaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Nvidia", name, {}, opts);
        const c = args.config;
        const d = c.driver;
        // Validated config (config/schema.ts checkNvidia): branch, open modules and the default CUDA fit together.
        this.defaultCuda = defaultCuda(c);
        this.cudaHome = this.defaultCuda === undefined ? undefined : cudaHome(this.defaultCuda);
        this.steps = {};
        for (const h of args.hosts) {
            if (h.config.gpus.count === 0) continue;
            const t = h.transport;
            const n = `${name}-${h.name}`;
            const after = stepOptions(this, h, readyOn(h.name, args.baseReady));
            const retain = retainStep(`${n}-retain`, t, "nvidia", c.retain, after());
            const aptPin = scriptStep(
                `${n}-apt-pin`,
                t,
                {
                    dir: SCRIPTS,
                    file: "apt-pin.sh",
                    env: { PIN_FILE: PATHS.driverPin, ...(exactDriverPins(c) ? { EXACT_PINS: exactDriverPins(c) } : {}) },
                    files: { PIN: driverPreferences(c) },
                    deleteEnv: { PIN_FILE: PATHS.driverPin },
                },
                after(retain),
            );
            const repo = !needsCudaRepository(c)
                ? undefined
                : scriptStep(
                    `${n}-cuda-repo`,
                    t,
                    {
                        dir: SCRIPTS,
                        file: "cuda-repo.sh",
                        env: { REPO: c.repository, KEY_FILE: versions.aptKeys.cuda.path, FINGERPRINTS: c.keyFingerprints.join(" "), KEY_SHA256: c.keySha256 ?? "" },
                        files: { SOURCE: cudaSource(c.repository) },
                    },
                    after(aptPin),
                  );
            const nouveau = scriptStep(
                `${n}-nouveau`,
                t,
                { dir: SCRIPTS, file: "nouveau.sh", env: { CONF_FILE: PATHS.nouveau }, files: { CONF: NOUVEAU_BLACKLIST }, deleteEnv: { CONF_FILE: PATHS.nouveau } },
                after(retain),
            );
            const driverEnv = h.facts.apply((f) => ({
                DRIVER_SOURCE: d.source,
                ...(d.source === "debian"
                    ? { DRIVER_MATCH: driverPin(c) }
                    : { DRIVER_BRANCH: driverBranch(c), OPEN_MODULES: d.openKernelModules }),
                PERSISTENCE: d.persistenceMode,
                SECURE_BOOT: f.secureBoot,
            }));
            const driver = scriptStep(`${n}-driver`, t, { dir: SCRIPTS, file: "driver.sh", env: driverEnv }, after(repo ?? aptPin, nouveau));
            // The driver's identity is in the env of the steps after it, so a driver change re-runs them.
            const driverId = `${d.source}:${driverPin(c)}${d.openKernelModules ? ":open" : ""}`;
            const reboot = scriptStep(
                `${n}-reboot`,
                t,
                { dir: SCRIPTS, file: "reboot.sh", env: { ALLOW_REBOOT: d.allowReboot && t.kind === "ssh", DRIVER: driverId }, noDelete: true },
                after(driver),
            );
            let waitReboot: pulumi.Resource | undefined;
            if (d.allowReboot && t.kind === "ssh") {
                // The provider retries the dial (about a second apart, then backing off) until the host is back.
                const wt: Transport = { ...t, connection: { ...t.connection, dialErrorLimit: Math.ceil(d.rebootTimeoutSeconds / 5), perDialTimeout: 10 } };
                waitReboot = scriptStep(
                    `${n}-wait-reboot`,
                    wt,
                    { dir: SCRIPTS, file: "wait-reboot.sh", env: reboot.stdout.apply((o) => waitRebootEnv(o ?? "")), noDelete: true },
                    after(reboot),
                );
            }
            const verify = scriptStep(
                `${n}-verify`,
                t,
                {
                    dir: SCRIPTS,
                    file: "verify.sh",
                    env: { EXPECTED_GPUS: h.config.gpus.count, EXPECTED_MODEL: h.config.gpus.model ?? "", PERSISTENCE: d.persistenceMode, DRIVER: driverId },
                    noDelete: true,
                },
                after(waitReboot ?? reboot),
            );
            const facts = pulumi.all([h.probe.stdout, verify.stdout]).apply(([probe, found]) => withGpus(probe, found));
            const installed = verify.stdout.apply(installedPackages);
            const cuda: Record<string, pulumi.Resource> = {};
            // (No toolkit without a repository: needsCudaRepository.)
            for (const v of c.cuda.versions) {
                if (!repo) break;
                cuda[v] = scriptStep(
                    `${n}-cuda-${cudaDash(v)}`,
                    t,
                    {
                        dir: SCRIPTS,
                        file: "cuda.sh",
                        env: { CUDA_VERSION: v, CUDNN_VERSION: c.cuda.cudnn ? c.cuda.cudnnVersion : "", NCCL_VERSION: c.cuda.nccl ? c.cuda.ncclVersion : "" },
                        deleteEnv: { CUDA_VERSION: v },
                    },
                    after(repo),
                );
            }
            const modules = this.defaultCuda === undefined
                ? undefined
                : scriptStep(
                    `${n}-cuda-modules`,
                    t,
                    {
                        dir: SCRIPTS,
                        file: "modules.sh",
                        env: { MODULES_DIR: PATHS.modules, DEFAULT_VERSION: this.defaultCuda },
                        files: { MODULE_FILES: cudaModuleFiles(c.cuda.versions) },
                        deleteEnv: { MODULES_DIR: PATHS.modules },
                    },
                    after(retain, ...Object.values(cuda)),
                  );
            this.steps[h.name] = { retain, aptPin, repo, nouveau, driver, reboot, waitReboot, verify, facts, installed, cuda, modules };
        }
        const hosts = Object.keys(this.steps);
        this.gpuReady = Object.fromEntries(hosts.map((h) => [h, this.steps[h].verify]));
        this.cudaReady = Object.fromEntries(hosts.map((h) => [h, this.steps[h].modules ?? this.steps[h].verify]));
        this.gpuFacts = Object.fromEntries(hosts.map((h) => [h, this.steps[h].facts]));
        this.reported = pulumi.all(Object.fromEntries(hosts.map((h) => [h, this.steps[h].facts]))).apply((all) =>
            Object.fromEntries(Object.entries(all).map(([h, f]) => [h, gpuReport(f)])),
        );
        this.registerOutputs({ defaultCuda: this.defaultCuda, cudaHome: this.cudaHome, reported: this.reported });
    }
}
