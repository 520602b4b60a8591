import { z } from "zod";
import { httpUrl, managedPath } from "./formats";
import { acceleratorsFor, GPU_MACHINE_TYPES, workbenchAccelerators } from "./gcp";
import { imageByDigest, keyFingerprints, sha256 } from "./common";
import { versions } from "./versions";

/**
 * PyTorch's official CUDA images (Docker Hub `pytorch/pytorch`) by torch
 * version: the CUDA versions each release is built for. The training image's
 * base is `pytorch/pytorch:<torch>-cuda<cuda>-cudnn9-runtime`; extend this
 * table when bumping torch (https://hub.docker.com/r/pytorch/pytorch/tags).
 */
export const pytorchImageCuda: Record<string, readonly string[]> = {
    "2.6.0": ["11.8", "12.4", "12.6"],
    "2.7.0": ["11.8", "12.6", "12.8"],
    "2.7.1": ["11.8", "12.6", "12.8"],
};

export function pytorchBaseImage(torch: string, cuda: string): string | undefined {
    return pytorchImageCuda[torch]?.includes(cuda) ? `pytorch/pytorch:${torch}-cuda${cuda}-cudnn9-runtime` : undefined;
}


const gcloudCli = z.strictObject({
    /** Install the Google Cloud CLI (gcloud, docker-credential-gcloud) from Google's apt repository; off when the host has it from elsewhere. */
    install: z.boolean().default(true),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, "expected a google-cloud-cli version such as \"520.0.0\"").default(versions.googleCloudCli),
    /** Google's apt repository, or a mirror of it (it must serve `doc/apt-key.gpg` too). */
    aptRepository: httpUrl().default("https://packages.cloud.google.com/apt"),
    /**
     * The exact set of fingerprints `<aptRepository>/doc/apt-key.gpg` must hold; required with `install` (none is
     * pinned in config/versions.ts: see gcloudCliKeyProblem).
     */
    keyFingerprints: keyFingerprints.optional(),
    /** sha256 of `<aptRepository>/doc/apt-key.gpg`, checked before the key is used when set. */
    keySha256: sha256.optional(),
});

const image = z.strictObject({
    /** Build the training image on the workstation's Docker daemon and push it to the stack's Artifact Registry (default: when the registry is on). */
    enabled: z.boolean().optional(),
    /** Image name inside the repository. */
    name: z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*$/, "expected an image name: lowercase letters, digits, '.', '_' and '-'").default("training"),
    /**
     * The base (FROM), pinned by digest: `name[:tag]@sha256:<digest>`, e.g. PyTorch's image for
     * workstation.mlRuntime.torch and the workstation's CUDA (pytorchBaseImage). Required with the image.
     */
    baseImage: imageByDigest.optional(),
    platform: z.enum(["linux/amd64", "linux/arm64"]).default("linux/amd64"),
});

const data = z.strictObject({
    /**
     * `rsync`: a systemd timer pulls the datasets bucket with `gcloud storage rsync`;
     * `gcsfuse`: the bucket is mounted (Cloud Storage FUSE); `off`: neither.
     * Checkpoints are pushed to the checkpoints bucket by the timer in both modes.
     * Default: `rsync` when the datasets and checkpoints buckets are on, else `off`.
     */
    mode: z.enum(["rsync", "gcsfuse", "off"]).optional(),
    datasetsPath: managedPath.default("/srv/aihpc/datasets"),
    checkpointsPath: managedPath.default("/srv/aihpc/checkpoints"),
    /** How often the timer syncs (a systemd time span). */
    interval: z.string().regex(/^\d+(s|min|h)$/, "expected a systemd time span such as \"15min\" or \"1h\"").default("15min"),
    gcsfuseVersion: z.string().regex(/^\d+\.\d+\.\d+$/).default(versions.gcsfuse),
});

const burst = z.strictObject({
    /** Vertex AI machine type of the custom job. */
    machineType: z.string().regex(/^[a-z0-9]+-[a-z0-9-]+$/, "expected a machine type such as \"g2-standard-8\"").default("g2-standard-8"),
    accelerator: z
        .strictObject({
            type: z.enum(workbenchAccelerators),
            count: z.number().int().refine((n) => [1, 2, 4, 8].includes(n), "expected 1, 2, 4 or 8").default(1),
        })
        .default({ type: "NVIDIA_L4", count: 1 }),
    bootDiskGb: z.number().int().min(100).max(65536).default(100),
    /** Vertex AI Experiments name shared by local (Slurm) and Vertex runs. */
    experiment: z.string().regex(/^[a-z0-9][a-z0-9-]{0,127}$/, "expected an experiment name: lowercase letters, digits and '-'").default("aihpc"),
    /** Spot VMs for the custom job (cheaper, preemptible). */
    spot: z.boolean().default(false),
});

export const hybridSchema = z.strictObject({
    /** The bridge between the workstation and this project (identity, image, data, burst); default: on with gcp.workstationIdentity. */
    enabled: z.boolean().optional(),
    /** Host whose Docker daemon builds the training image; default the Slurm controller. */
    buildHost: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "expected a host name from workstation.hosts").optional(),
    gcloudCli: gcloudCli.prefault({}),
    image: image.prefault({}),
    data: data.prefault({}),
    burst: burst.prefault({}),
});

/** `gcp.hybrid` as written (unset toggles follow the rest of the stack). */
export type HybridSettings = z.infer<typeof hybridSchema>;

/** `gcp.hybrid` with every toggle decided (what the cross-checks read). */
export type ResolvedHybrid = Omit<HybridSettings, "enabled" | "image" | "data"> & {
    enabled: boolean;
    image: Omit<HybridSettings["image"], "enabled"> & { enabled: boolean };
    data: Omit<HybridSettings["data"], "mode"> & { mode: "rsync" | "gcsfuse" | "off" };
};

type ImageSettings = Omit<HybridSettings["image"], "enabled" | "baseImage">;
/** The training image: on, it has its base pinned by digest (hybridProblems requires it). */
export type HybridImage = (ImageSettings & { enabled: false; baseImage?: string }) | (ImageSettings & { enabled: true; baseImage: string });

/** `gcp.hybrid` validated: what the components take. */
export type HybridConfig = Omit<ResolvedHybrid, "image"> & { image: HybridImage };

/** The validated form of a resolved `gcp.hybrid` (after hybridProblems found nothing). */
export function validatedHybrid(r: ResolvedHybrid): HybridConfig {
    const { enabled, baseImage, ...rest } = r.image;
    if (!enabled) return { ...r, image: { ...rest, enabled: false, baseImage } };
    if (baseImage === undefined) throw new Error("gcp.hybrid.image.baseImage: unchecked config (hybridProblems requires it with the image)");
    return { ...r, image: { ...rest, enabled: true, baseImage } };
}

/** What the cross-checks need from the rest of the stack's config. */
export interface HybridContext {
    hybrid: HybridSettings;
    hostNames: string[];
    /** None when the workstation installs no CUDA toolkit (nvidia.cuda.versions: []). */
    cudaVersion: string | undefined;
    torch: string;
    artifactRegistry: boolean;
    buckets: { datasets: boolean; checkpoints: boolean };
    workstationIdentity: boolean;
}

/** The CUDA version the image matches: nvidia.cuda.default, else the first installed. */
export function workstationCuda(nvidia: { cuda: { versions: string[]; default?: string } }): string | undefined {
    return nvidia.cuda.default ?? nvidia.cuda.versions[0];
}

/**
 * Unset toggles follow what they need: the bridge is on with the workstation
 * identity, the image with the registry, data sync with both buckets.
 */
export function resolveHybrid(c: Omit<HybridContext, "hostNames" | "cudaVersion" | "torch">): ResolvedHybrid {
    const h = c.hybrid;
    return {
        ...h,
        enabled: h.enabled ?? c.workstationIdentity,
        image: { ...h.image, enabled: h.image.enabled ?? c.artifactRegistry },
        data: { ...h.data, mode: h.data.mode ?? (c.buckets.datasets && c.buckets.checkpoints ? "rsync" : "off") },
    };
}

/** Problems as [path under aihpc:gcp.hybrid, message]. */
export function hybridProblems(c: HybridContext): [(string | number)[], string][] {
    const out: [(string | number)[], string][] = [];
    if (c.hybrid.enabled === true && !c.workstationIdentity) {
        out.push([["enabled"], "the bridge authenticates the workstation through gcp.workstationIdentity: turn that on, or gcp.hybrid.enabled off"]);
    }
    const h = resolveHybrid(c);
    if (!h.enabled || !c.workstationIdentity) return out;
    if (h.gcloudCli.install && h.gcloudCli.keyFingerprints === undefined) {
        out.push([
            ["gcloudCli", "keyFingerprints"],
            `required with gcloudCli.install: the exact fingerprints of the keys in ${h.gcloudCli.aptRepository}/${versions.aptKeys.googleCloud.path} (Google publishes the file with its install guide, https://cloud.google.com/sdk/docs/install#deb; list them with \`curl -fsSL ${h.gcloudCli.aptRepository}/${versions.aptKeys.googleCloud.path} | gpg --show-keys --with-colons | awk -F: '$1 == "pub" { p = 1 } $1 == "fpr" && p { print $10; p = 0 }'\` and check them against Google's), or set gcloudCli.install=false`,
        ]);
    }
    if (h.buildHost !== undefined && !c.hostNames.includes(h.buildHost)) {
        out.push([["buildHost"], `unknown host '${h.buildHost}': expected one of ${c.hostNames.join(", ")}`]);
    }
    if (h.image.enabled) {
        if (!c.artifactRegistry) out.push([["image", "enabled"], "the training image is pushed to the stack's Artifact Registry: turn gcp.artifactRegistry.enabled on, or image.enabled off"]);
        const suggested = c.cudaVersion === undefined ? undefined : pytorchBaseImage(c.torch, c.cudaVersion);
        if (h.image.baseImage === undefined && c.cudaVersion === undefined) {
            out.push([["image", "baseImage"], "the workstation installs no CUDA toolkit (workstation.nvidia.cuda.versions: []) to match a PyTorch image to: set image.baseImage to an image pinned by digest (name:tag@sha256:<digest>), or list a CUDA version"]);
        } else if (h.image.baseImage === undefined && !suggested) {
            const known = pytorchImageCuda[c.torch];
            out.push([
                ["image", "baseImage"],
                `no PyTorch ${c.torch} image for CUDA ${c.cudaVersion} (the workstation's): ${known ? `PyTorch ${c.torch} is built for CUDA ${known.join(", ")}` : `torch ${c.torch} is not in config/hybrid.ts`}; set image.baseImage to an image pinned by digest (name:tag@sha256:<digest>)`,
            ]);
        } else if (h.image.baseImage === undefined) {
            // A tag can be moved to other content: the build starts FROM a digest, which nobody could read here.
            out.push([
                ["image", "baseImage"],
                `required with the training image: its base pinned by digest, ${suggested}@sha256:<digest> (Docker Hub lists it under https://hub.docker.com/r/pytorch/pytorch/tags; \`docker buildx imagetools inspect ${suggested}\` prints the digest), or set image.enabled: false`,
            ]);
        }
    }
    if (h.data.mode !== "off") {
        if (!c.buckets.datasets) out.push([["data", "mode"], `'${h.data.mode}' needs the datasets bucket (gcp.buckets.datasets.enabled), or set mode 'off'`]);
        if (!c.buckets.checkpoints) out.push([["data", "mode"], `'${h.data.mode}' pushes checkpoints: it needs gcp.buckets.checkpoints.enabled, or set mode 'off'`]);
        // Datasets and checkpoints in folders of their own: config/schema.ts checkManagedFolders (all managed folders).
    }
    const acc = h.burst.accelerator;
    const fit = acceleratorsFor(h.burst.machineType);
    if (fit.types.length === 0) {
        out.push([["burst", "machineType"], `machine type '${h.burst.machineType}' takes no GPU: use ${GPU_MACHINE_TYPES}`]);
    } else if (!fit.types.includes(acc.type)) {
        out.push([["burst", "accelerator", "type"], `${acc.type} is not available on machine type '${h.burst.machineType}': expected ${fit.types.join(" or ")}`]);
    } else if (fit.builtIn && fit.counts.length && !fit.counts.includes(acc.count)) {
        out.push([["burst", "accelerator", "count"], `machine type '${h.burst.machineType}' has ${fit.counts[0]} ${acc.type}, got count ${acc.count}`]);
    }
    return out;
}
