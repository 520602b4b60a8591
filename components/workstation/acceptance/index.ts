import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { WorkstationConfig } from "../../../config/workstation";
import { Host } from "../host";
import { readScript, scriptCommand } from "../host/script";
import { hostStep } from "../host/step";
import { findSpec, loadSpecs } from "./evaluate";

export * from "./evaluate";

export type AcceptanceConfig = WorkstationConfig["acceptance"];

/** Where the suite lives on a host, and what the Pulumi program writes there. */
export const INSTALL_DIR = "/usr/local/lib/aihpc/acceptance";
export const CONF_FILE = "/etc/aihpc/gpu-acceptance.conf";
export const PROM_FILE = "/var/lib/prometheus/node-exporter/aihpc_gpu_acceptance.prom";

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

/** `path=base64 ...` for the install script (a change in any file changes the command, so the step re-runs). */
export function suiteFilesEnv(dir = __dirname): string {
    return SUITE_FILES.map((f) => `${f}=${Buffer.from(readScript(dir, f)).toString("base64")}`).join(" ");
}

export interface AcceptanceArgs {
    /** Hosts to install on: those whose config lists GPUs (`gpus.count > 0`). */
    hosts: Host[];
    config: AcceptanceConfig;
    /** The Python of the ML runtime (for the PyTorch check); default: python3 on PATH. */
    python?: string;
    /** The CUDA toolkit whose nvcc builds the suite; default: nvcc on PATH, then /usr/local/cuda. */
    cudaHome?: string;
    /** What each host's step waits for (its CUDA toolkit), by host name. */
    after?: Record<string, pulumi.Input<pulumi.Resource>[]>;
}

/**
 * The GPU acceptance suite on every GPU host: CUDA sources, runner and spec
 * table under INSTALL_DIR, built there with nvcc; `aihpc-gpu-acceptance` on
 * PATH; the minimum fractions of peak in CONF_FILE; the Slurm job template
 * gpu-acceptance.sbatch beside the other job templates. Installing does not
 * run the suite (a minute of exclusive GPU time): run it by hand or as a job.
 */
export class Acceptance extends pulumi.ComponentResource {
    public readonly steps: Record<string, pulumi.Resource>;

    constructor(name: string, args: AcceptanceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Acceptance", name, {}, opts);
        const min = args.config.minFractionOfPeak;
        for (const [k, v] of Object.entries(min)) {
            if (!(v > 0 && v <= 1)) throw new pulumi.ResourceError(`acceptance.minFractionOfPeak.${k}: expected a fraction in (0, 1], got ${v}`, this);
        }
        if (args.python !== undefined && !/^[A-Za-z0-9_./+-]+$/.test(args.python)) {
            throw new pulumi.ResourceError(`acceptance python: expected a command or absolute path, got '${args.python}'`, this);
        }
        this.steps = {};
        if (!args.config.enabled) {
            this.registerOutputs({});
            return;
        }
        const specs = loadSpecs();
        const files = suiteFilesEnv();
        const script = readScript(path.join(__dirname, "scripts"), "install.sh");
        for (const h of args.hosts.filter((x) => x.config.gpus.count > 0)) {
            const model = h.config.gpus.model;
            if (model && !findSpec(specs, model)) {
                pulumi.log.warn(`host '${h.name}': no spec for GPU '${model}' in gpu-specs.json: its acceptance figures will be informational only`, this);
            }
            const env = {
                ACTION: "apply",
                FILES: files,
                MIN_DEVICE_BW: min.deviceBandwidth,
                MIN_HOST_DEVICE_BW: min.hostDeviceBandwidth,
                MIN_GEMM: min.gemm,
                PYTHON: args.python ?? "python3",
                CUDA_HOME: args.cudaHome ?? "",
            };
            this.steps[h.name] = hostStep(
                `${name}-${h.name}`,
                h.transport,
                { create: scriptCommand(script, env), delete: scriptCommand(script, { ACTION: "delete" }) },
                { parent: this, dependsOn: [h.ready, ...(args.after?.[h.name] ?? [])] },
            );
        }
        this.registerOutputs({});
    }
}
