import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MlRuntimeConfig } from "../../../config/workstation";
import { Host } from "../host";
import { retainStep, scriptStep, stepOptions } from "../steps";

const SCRIPTS = `${__dirname}/scripts`;
export const LOCK_DIR = path.join(__dirname, "locks");
export const KERNEL_NAME = "aihpc-torch";

/** "12.8" -> "cu128": PyTorch's name for a CUDA build. */
export const torchCudaTag = (cuda: string) => `cu${cuda.replace(".", "")}`;

export function lockFile(torch: string, tag: string): string {
    return path.join(LOCK_DIR, `torch-${torch}-${tag}.txt`);
}

/** The committed lock for a torch version and CUDA build (throws naming the missing file). */
export function readLock(torch: string, tag: string): string {
    const f = lockFile(torch, tag);
    if (!fs.existsSync(f)) {
        throw new Error(`no lock for torch ${torch} ${tag}: produce ${path.relative(path.resolve(__dirname, "../../.."), f)} with tools/ml-lock.sh ${torch} ${tag}`);
    }
    return fs.readFileSync(f, "utf8");
}

export interface MlRuntimeArgs {
    hosts: Host[];
    config: MlRuntimeConfig;
    /** The CUDA version torch is built for (the default CUDA module). */
    cuda: string;
    after?: Record<string, pulumi.Input<pulumi.Resource>[]>;
}

/** The ML runtime on every GPU host: a venv with PyTorch for the installed CUDA, from a committed lock, and a Jupyter kernel. */
export class MlRuntime extends pulumi.ComponentResource {
    public readonly steps: Record<string, { retain: pulumi.Resource; venv: pulumi.Resource; kernel?: pulumi.Resource }>;
    /** The venv's python: the acceptance suite's PyTorch check runs it. */
    public readonly python: string;

    constructor(name: string, args: MlRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:MlRuntime", name, {}, opts);
        const c = args.config;
        const tag = torchCudaTag(args.cuda);
        let lock: string;
        try {
            lock = readLock(c.torch, tag);
        } catch (e) {
            throw new pulumi.ResourceError(`mlRuntime: ${(e as Error).message}`, this);
        }
        this.python = `${c.path}/bin/python`;
        const indexUrl = c.indexUrl ?? `https://download.pytorch.org/whl/${tag}`;
        // PyTorch's own index lacks most of ipykernel's dependencies; an Artifact Registry remote proxies PyPI itself.
        const extraIndexUrl = c.extraIndexUrl ?? (c.indexUrl ? "" : "https://pypi.org/simple");
        this.steps = {};
        for (const h of args.hosts) {
            if (h.config.gpus.count === 0) continue;
            const t = h.transport;
            const n = `${name}-${h.name}`;
            const base = args.after?.[h.name] ?? [];
            const after = stepOptions(this, h, base);
            const retain = retainStep(`${n}-retain`, t, "ml-runtime", c.retain, after());
            const venv = scriptStep(
                `${n}-venv`,
                t,
                {
                    dir: SCRIPTS,
                    file: "venv.sh",
                    env: { VENV: c.path, LOCK: lock.trimEnd(), INDEX_URL: indexUrl, EXTRA_INDEX_URL: extraIndexUrl, TORCH_CUDA: tag },
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
        this.registerOutputs({});
    }
}
