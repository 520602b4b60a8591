import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { WorkstationConfig } from "../../../config/workstation";
import { Host } from "../host";
import { fileSet, retainStep, scriptStep, stepOptions } from "../../steps";
import { readScript } from "../../steps/shell";
import { PATHS as SLURM_PATHS } from "../slurm/conf";
import { Ready, readyOn } from "../ready";
import { findSpec, loadSpecs } from "./evaluate";

export * from "./evaluate";

export type AcceptanceConfig = WorkstationConfig["acceptance"];

const SCRIPTS = path.join(__dirname, "scripts");

/** Where the suite lives on a host, and what the Pulumi program writes there (passed to the step as settings). */
export const INSTALL_DIR = "/usr/local/lib/aihpc/acceptance";
export const CONF_FILE = "/etc/aihpc/gpu-acceptance.conf";
export const PROM_FILE = "/var/lib/prometheus/node-exporter/aihpc_gpu_acceptance.prom";
/** The runner on PATH (a link into INSTALL_DIR). */
export const COMMAND_LINK = "/usr/local/bin/aihpc-gpu-acceptance";

/** The files shipped to a host, relative to this folder (and to INSTALL_DIR there). */
export const SUITE_FILES = [
    "gpu-specs.json",
    "src/common.h",
    "src/options.h",
    "src/membw.cu",
    "src/hostbw.cu",
    "src/gemm.cu",
    "scripts/build.sh",
    "scripts/aihpc-gpu-acceptance",
    "scripts/evaluate.py",
    "scripts/torch_matmul.py",
    "templates/gpu-acceptance.sbatch",
];

/** The suite as the install step's file set FILES: relative name -> file in this checkout (shipped in the step bundle). */
export function suiteFiles(dir = __dirname): Record<string, string> {
    return Object.fromEntries(SUITE_FILES.map((f) => [f, path.join(dir, f)]));
}

/** What $FILES holds on the host (the file-set encoding, components/steps fileSet): for tests that run the step in place. */
export function suiteFileSet(dir = __dirname): string {
    return fileSet(Object.fromEntries(SUITE_FILES.map((f) => [f, readScript(dir, f)])));
}

/** CONF_FILE: the minimum fractions of peak and the Python the runner reads. */
export function acceptanceConf(min: AcceptanceConfig["minFractionOfPeak"], python: string): string {
    return [
        "# Managed by aihpc (Pulumi): workstation.acceptance.",
        `deviceBandwidth=${min.deviceBandwidth}`,
        `hostDeviceBandwidth=${min.hostDeviceBandwidth}`,
        `gemm=${min.gemm}`,
        `python=${python}`,
    ].join("\n");
}

/** The step's paths, defined here once: apply and delete get the same. */
export const STEP_PATHS = { DEST: INSTALL_DIR, CONF_FILE, LINK: COMMAND_LINK, JOBS_DIR: SLURM_PATHS.jobs, PROM_FILE };

export interface AcceptanceArgs {
    /** Hosts to install on: those whose config lists GPUs (`gpus.count > 0`). */
    hosts: Host[];
    config: AcceptanceConfig;
    /** The Python of the ML runtime (for the PyTorch check); default: python3 on PATH. */
    python?: string;
    /** The CUDA toolkit whose nvcc builds the suite; default: nvcc on PATH, then /usr/local/cuda. */
    cudaHome?: string;
    /** The base system in place on each host (the suite's build installs through apt). */
    baseReady?: Ready;
    /** The driver verified on each GPU host (the suite measures the GPU). */
    gpuReady?: Ready;
    /** The CUDA toolkits installed on each GPU host (nvcc builds the suite). */
    cudaReady?: Ready;
    /** Slurm's job templates in place (the suite adds its own beside them). */
    jobTemplatesReady?: Ready;
    /** The ML runtime's venv (the PyTorch check runs its python). */
    runtimeReady?: Ready;
}

/**
 * The GPU acceptance suite on every GPU host: CUDA sources, runner and spec
 * table under INSTALL_DIR, built there with nvcc; `aihpc-gpu-acceptance` on
 * PATH; the minimum fractions of peak in CONF_FILE; the Slurm job template
 * gpu-acceptance.sbatch beside the other job templates. Installing does not
 * run the suite (a minute of exclusive GPU time): run it by hand or as a job.
 * A retain step per host, as every component: with `retain`, teardown keeps
 * the suite, its settings and its last results.
 */
export class Acceptance extends pulumi.ComponentResource {
    public readonly steps: Record<string, pulumi.Resource>;

    constructor(name: string, args: AcceptanceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Acceptance", name, {}, opts);
        // Fractions in (0, 1], validated with the config (config/workstation.ts acceptance).
        const min = args.config.minFractionOfPeak;
        this.steps = {};
        if (!args.config.enabled) {
            this.registerOutputs({});
            return;
        }
        const specs = loadSpecs();
        for (const h of args.hosts.filter((x) => x.config.gpus.count > 0)) {
            const model = h.config.gpus.model;
            if (model && !findSpec(specs, model)) {
                pulumi.log.warn(`host '${h.name}': no spec for GPU '${model}' in gpu-specs.json: its acceptance figures will be informational only`, this);
            }
            const after = stepOptions(this, h, readyOn(h.name, args.baseReady, args.gpuReady, args.cudaReady, args.jobTemplatesReady, args.runtimeReady));
            const retain = retainStep(`${name}-${h.name}-retain`, h.transport, "acceptance", args.config.retain, after());
            this.steps[h.name] = scriptStep(
                `${name}-${h.name}`,
                h.transport,
                {
                    dir: SCRIPTS,
                    file: "install.sh",
                    env: { ...STEP_PATHS, CUDA_HOME: args.cudaHome ?? "" },
                    files: { CONF: acceptanceConf(min, args.python ?? "python3") },
                    sets: { FILES: suiteFiles() },
                    deleteEnv: STEP_PATHS,
                },
                after(retain),
            );
        }
        this.registerOutputs({ hosts: Object.keys(this.steps), command: "aihpc-gpu-acceptance", installDir: INSTALL_DIR, results: PROM_FILE });
    }
}
