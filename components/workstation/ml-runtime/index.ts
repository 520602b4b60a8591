import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MlRuntimeConfig } from "../../../config/workstation";
import { Host } from "../host";
import { retainStep, scriptStep, stepOptions } from "../../steps";
import { Ready, readyOn } from "../ready";
import { lockProblem } from "./problems";

const SCRIPTS = `${__dirname}/scripts`;
export const LOCK_DIR = path.join(__dirname, "locks");
export const KERNEL_NAME = "aihpc-torch";
/** VENV/.aihpc-venv: the folder is the stack's (teardown removes a venv folder only where this is). */
export const VENV_MARKER = "# Created by aihpc (workstation.mlRuntime.path); pulumi destroy removes this folder.";

/** "12.8" -> "cu128": PyTorch's name for a CUDA build. */
export const torchCudaTag = (cuda: string) => `cu${cuda.replace(".", "")}`;

/** PyPI, the one index the locks are made from (tools/ml-lock.sh). */
export const PYPI = "https://pypi.org/simple";

export interface TorchLock {
    /** The lock file's path. */
    file: string;
    torch: string;
    /** The CUDA PyPI's torch wheel of that version is built for, e.g. "12.6", and its tag "cu126". */
    cuda: string;
    tag: string;
}

/**
 * The committed locks by torch version. PyPI publishes one CUDA build per
 * torch version, so a version has one lock, named after that CUDA
 * (`torch-2.7.1-cu126.txt`).
 */
export function torchLocks(): TorchLock[] {
    return fs
        .readdirSync(LOCK_DIR)
        .map((f) => /^torch-(\d+\.\d+\.\d+)-cu(\d+)(\d)\.txt$/.exec(f))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ file: path.join(LOCK_DIR, m[0]), torch: m[1], cuda: `${m[2]}.${m[3]}`, tag: `cu${m[2]}${m[3]}` }));
}

/** The lock for a torch version, or undefined. */
export function lockFor(torch: string): TorchLock | undefined {
    return torchLocks().find((l) => l.torch === torch);
}

/** The committed lock's text for a torch version (throws naming what to do). */
export function readLock(torch: string): { lock: TorchLock; text: string } {
    const lock = lockFor(torch);
    if (!lock) {
        const have = torchLocks().map((l) => l.torch);
        throw new Error(`no lock for torch ${torch} (locks: ${have.join(", ") || "none"}): produce one with tools/ml-lock.sh runtime ${torch}`);
    }
    const text = fs.readFileSync(lock.file, "utf8");
    const problem = lockProblem(lock.file, text, torch);
    if (problem) throw new Error(problem);
    return { lock, text };
}

export interface MlRuntimeArgs {
    hosts: Host[];
    config: MlRuntimeConfig;
    /** The base system in place on each host (see Workstation.baseReady), where the stack manages it. */
    baseReady?: Ready;
}

/**
 * The ML runtime on every GPU host: a venv with PyTorch from a committed,
 * fully hashed lock (PyPI's build, which carries its own CUDA runtime
 * libraries), installed with --require-hashes --no-deps from one index, and a
 * Jupyter kernel.
 */
export class MlRuntime extends pulumi.ComponentResource {
    public readonly steps: Record<string, { retain: pulumi.Resource; venv: pulumi.Resource; kernel?: pulumi.Resource }>;
    /** The venv's python: the acceptance suite's PyTorch check runs it. */
    public readonly python: string;
    /** The venv with PyTorch installed and checked, by host. */
    public readonly runtimeReady: Ready;

    constructor(name: string, args: MlRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:MlRuntime", name, {}, opts);
        const c = args.config;
        // The schema found the lock committed and hashed (problems.ts mlRuntimeProblems).
        const { lock } = readLock(c.torch);
        const tag = lock.tag;
        this.python = `${c.path}/bin/python`;
        // One index for every package: a second one could shadow a name (dependency confusion).
        const indexUrl = c.indexUrl ?? PYPI;
        this.steps = {};
        for (const h of args.hosts) {
            if (h.config.gpus.count === 0) continue;
            const t = h.transport;
            const n = `${name}-${h.name}`;
            const after = stepOptions(this, h, readyOn(h.name, args.baseReady));
            const retain = retainStep(`${n}-retain`, t, "ml-runtime", c.retain, after());
            const venv = scriptStep(
                `${n}-venv`,
                t,
                {
                    dir: SCRIPTS,
                    file: "venv.sh",
                    env: { VENV: c.path, INDEX_URL: indexUrl, TORCH: c.torch, TORCH_CUDA: lock.cuda },
                    bundled: { LOCK: lock.file },
                    files: { MARKER: VENV_MARKER },
                    deleteEnv: { VENV: c.path },
                },
                after(retain),
            );
            const steps: { retain: pulumi.Resource; venv: pulumi.Resource; kernel?: pulumi.Resource } = { retain, venv };
            if (c.jupyterKernel) {
                steps.kernel = scriptStep(
                    `${n}-jupyter-kernel`,
                    t,
                    {
                        dir: SCRIPTS,
                        file: "kernel.sh",
                        env: { VENV: c.path, KERNEL_NAME, DISPLAY_NAME: `PyTorch ${c.torch} (${tag}, aihpc)` },
                        deleteEnv: { KERNEL_NAME },
                    },
                    after(venv),
                );
            }
            this.steps[h.name] = steps;
        }
        this.runtimeReady = Object.fromEntries(Object.entries(this.steps).map(([h, s]) => [h, s.venv]));
        this.registerOutputs({ python: this.python, torch: c.torch, torchCuda: lock.cuda, hosts: Object.keys(this.steps) });
    }
}
