import { hybridOf } from "../../../config";
import { pytorchBaseImage } from "../../../config/hybrid";
import { TEST_GOOGLE_KEY, withGcp, hybridPins } from "../../helpers/fixtures";
import { configProblems, parseConfig } from "../../helpers/harness";

function problems(mutate: (raw: Record<string, any>) => void): string[] {
    const raw = withGcp();
    mutate(raw);
    return configProblems(raw);
}

describe("gcp.hybrid config", () => {
    test("defaults: on, image, rsync data, L4 burst, pinned gcloud from Google's repository", () => {
        const h = hybridOf(parseConfig(withGcp()))!;
        expect(h.enabled).toBe(true);
        expect(h.image).toMatchObject({ enabled: true, name: "training", platform: "linux/amd64" });
        expect(h.data).toMatchObject({ mode: "rsync", datasetsPath: "/srv/aihpc/datasets", checkpointsPath: "/srv/aihpc/checkpoints", interval: "15min" });
        expect(h.gcloudCli).toEqual({ install: true, version: "520.0.0", aptRepository: "https://packages.cloud.google.com/apt", keyFingerprints: [TEST_GOOGLE_KEY] });
        expect(h.burst).toMatchObject({ machineType: "g2-standard-8", accelerator: { type: "NVIDIA_L4", count: 1 }, experiment: "aihpc", spot: false });
        expect(pytorchBaseImage("2.7.1", "12.8")).toBe("pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime");
    });

    test("unset toggles follow what they need; explicit ones are checked", () => {
        const off = (raw: Record<string, any>) => {
            raw.gcp.workstationIdentity = { enabled: false };
            raw.gcp.artifactRegistry = { enabled: false };
            raw.gcp.buckets = { checkpoints: { enabled: false } };
        };
        expect(problems(off)).toEqual([]);
        const raw = withGcp();
        off(raw);
        const h = hybridOf(parseConfig(raw))!;
        expect([h.enabled, h.image.enabled, h.data.mode]).toEqual([false, false, "off"]);
        expect(
            problems((r) => {
                off(r);
                r.gcp.hybrid = hybridPins({ enabled: true });
            }),
        ).toEqual(["aihpc:gcp.hybrid.enabled: the bridge authenticates the workstation through gcp.workstationIdentity: turn that on, or gcp.hybrid.enabled off"]);
        expect(
            problems((r) => {
                r.gcp.artifactRegistry = { enabled: false };
                r.gcp.buckets = { checkpoints: { enabled: false } };
                r.gcp.hybrid = hybridPins({ image: { enabled: true }, data: { mode: "gcsfuse" } });
            }),
        ).toEqual([
            "aihpc:gcp.hybrid.image.enabled: the training image is pushed to the stack's Artifact Registry: turn gcp.artifactRegistry.enabled on, or image.enabled off",
            "aihpc:gcp.hybrid.data.mode: 'gcsfuse' pushes checkpoints: it needs gcp.buckets.checkpoints.enabled, or set mode 'off'",
        ]);
    });

    test("build host, CUDA without a PyTorch image, burst machine and accelerator, data paths", () => {
        expect(problems((r) => (r.gcp.hybrid = hybridPins({ buildHost: "ws9" })))).toEqual(["aihpc:gcp.hybrid.buildHost: unknown host 'ws9': expected one of ws1"]);
        expect(
            problems((r) => {
                r.workstation.nvidia = { cuda: { versions: ["12.2"] } };
                r.workstation.mlRuntime = { enabled: false };
                r.gcp.hybrid = hybridPins({ image: { baseImage: undefined } });
            }),
        ).toEqual([
            "aihpc:gcp.hybrid.image.baseImage: no PyTorch 2.7.1 image for CUDA 12.2 (the workstation's): PyTorch 2.7.1 is built for CUDA 11.8, 12.6, 12.8; set image.baseImage to an image pinned by digest (name:tag@sha256:<digest>)",
        ]);
        // A driver-only workstation (no CUDA toolkit): no CUDA to match an image to.
        expect(
            problems((r) => {
                r.workstation.nvidia = { cuda: { versions: [] } };
                r.workstation.mlRuntime = { enabled: false };
                r.workstation.acceptance = { enabled: false };
                r.gcp.hybrid = hybridPins({ image: { baseImage: undefined } });
            }),
        ).toEqual([
            "aihpc:gcp.hybrid.image.baseImage: the workstation installs no CUDA toolkit (workstation.nvidia.cuda.versions: []) to match a PyTorch image to: set image.baseImage to an image pinned by digest (name:tag@sha256:<digest>), or list a CUDA version",
        ]);
        expect(
            problems((r) => {
                r.workstation.nvidia = { cuda: { versions: ["12.2"] } };
                r.workstation.mlRuntime = { enabled: false };
                r.gcp.hybrid = hybridPins({ image: { baseImage: `nvcr.io/nvidia/pytorch:23.10-py3@sha256:${"b".repeat(64)}` } });
            }),
        ).toEqual([]);
        // Pins the bridge needs: by digest only, and the Google key's fingerprints; named with where to get them.
        expect(problems((r) => (r.gcp.hybrid = hybridPins({ image: { baseImage: "pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime" } })))).toEqual([
            expect.stringMatching(/^aihpc:gcp\.hybrid\.image\.baseImage: expected an image pinned by digest, name\[:tag\]@sha256:<64 hex>/),
        ]);
        expect(problems((r) => (r.gcp.hybrid = hybridPins({ image: { baseImage: undefined }, gcloudCli: { keyFingerprints: undefined } })))).toEqual([
            expect.stringMatching(/^aihpc:gcp\.hybrid\.gcloudCli\.keyFingerprints: required with gcloudCli\.install: .*apt-key\.gpg.*cloud\.google\.com\/sdk\/docs\/install/),
            expect.stringMatching(/^aihpc:gcp\.hybrid\.image\.baseImage: required with the training image: its base pinned by digest, pytorch\/pytorch:2\.7\.1-cuda12\.8-cudnn9-runtime@sha256:<digest>/),
        ]);
        expect(problems((r) => (r.gcp.hybrid = hybridPins({ gcloudCli: { keyFingerprints: ["EB69 3B30 35CD 5710 E231 E123 A4B4 6996 3BF8 63CC"] } })))).toEqual([]);
        expect(problems((r) => (r.gcp.hybrid = hybridPins({ gcloudCli: { keyFingerprints: ["3BF863CC"] } })))).toEqual([
            expect.stringMatching(/keyFingerprints\[0\]: expected an OpenPGP key fingerprint: 40 hex digits/),
        ]);
        expect(problems((r) => (r.gcp.hybrid = hybridPins({ burst: { machineType: "e2-standard-8" } })))).toEqual([
            expect.stringMatching(/^aihpc:gcp\.hybrid\.burst\.machineType: machine type 'e2-standard-8' takes no GPU/),
        ]);
        expect(problems((r) => (r.gcp.hybrid = hybridPins({ burst: { machineType: "a2-highgpu-1g" } })))).toEqual([
            "aihpc:gcp.hybrid.burst.accelerator.type: NVIDIA_L4 is not available on machine type 'a2-highgpu-1g': expected NVIDIA_TESLA_A100",
        ]);
        expect(problems((r) => (r.gcp.hybrid = hybridPins({ burst: { machineType: "a2-highgpu-2g", accelerator: { type: "NVIDIA_TESLA_A100", count: 1 } } })))).toEqual([
            "aihpc:gcp.hybrid.burst.accelerator.count: machine type 'a2-highgpu-2g' has 2 NVIDIA_TESLA_A100, got count 1",
        ]);
        expect(problems((r) => (r.gcp.hybrid = hybridPins({ data: { checkpointsPath: "/srv/aihpc/datasets/ckpt" } })))).toEqual([
            'aihpc:gcp.hybrid.data.checkpointsPath: "/srv/aihpc/datasets/ckpt" is inside gcp.hybrid.data.datasetsPath ("/srv/aihpc/datasets"): every folder the stack manages needs a place of its own (neither inside another), or one part\'s teardown would remove the other\'s files',
        ]);
        expect(problems((r) => (r.gcp.hybrid = hybridPins({ data: { mode: "nfs", interval: "often" }, gcloudCli: { aptRepository: "ftp://x" } })))).toEqual([
            expect.stringMatching(/^aihpc:gcp\.hybrid\.gcloudCli\.aptRepository: /),
            'aihpc:gcp.hybrid.data.mode: expected one of "rsync", "gcsfuse", "off", got "nfs"',
            'aihpc:gcp.hybrid.data.interval: expected a systemd time span such as "15min" or "1h", got "often"',
        ]);
    });
});
