// Every pinned version the stack installs, in one place (DeepOps keeps these in
// one defaults file too). Bump here, and the plan shows which steps re-run.
export const versions = {
    /** Debian 12's only driver branch in non-free. */
    debianDriverBranch: "535",
    /** Upstream version of Debian 12's nvidia-driver (non-free); the Debian revision may move (security updates). */
    debianDriver: "535.261.03",
    /** NVIDIA's CUDA repository for Debian 12: 570+ is needed for Blackwell. */
    cudaRepoDriverBranch: "570",
    cuda: "12.8",
    /**
     * Signing keys of the third-party apt repositories: where the key file lies (relative to the repository,
     * or a URL) and the EXACT set of primary-key fingerprints it must hold (`gpg --show-keys --with-colons
     * FILE`). A step downloads the file to a temporary place, checks its sha256 when one is pinned
     * (`keySha256` settings) and that its fingerprint set equals this set, and only then installs it
     * (components/steps/scripts/lib.sh `aihpc_apt_repo`). Sources of the values:
     * - cuda: NVIDIA's CUDA repository key 3BF863CC (the key the cuda-keyring package carries; NVIDIA publishes it
     *   as `3bf863cc.pub` in each repository). The cuda-keyring .deb itself is no longer installed.
     * - nvidiaContainerToolkit: `NVIDIA CORPORATION (Open Source Projects) <cudatools@nvidia.com>`, as Debian 12's
     *   extrepo-offline-data 1.0.3+deb12u1 records it (nvidia-docker.asc); NVIDIA's install guide serves it at
     *   https://nvidia.github.io/libnvidia-container/gpgkey.
     * - grafana: `Grafana Labs <engineering@grafana.com>`, the key of Grafana's January 2023 rotation, as Debian 12's
     *   extrepo-offline-data records it (grafana.asc, which also carries the two keys it replaced: 4E40DDF6... and
     *   0E22EB88..., the one exposed in 2023; neither is trusted here).
     * - googleCloud: none pinned. Google's `apt-key.gpg` holds several rotating keys and no source available here
     *   gives the exact set: `gcp.hybrid.gcloudCli.keyFingerprints` is required (see its message).
     */
    aptKeys: {
        cuda: { path: "3bf863cc.pub", fingerprints: ["EB693B3035CD5710E231E123A4B469963BF863CC"] },
        nvidiaContainerToolkit: { url: "https://nvidia.github.io/libnvidia-container/gpgkey", fingerprints: ["C95B321B61E88C1809C4F759DDCAE044F796ECB0"] },
        grafana: { path: "gpg.key", fingerprints: ["B53AE77BADB630A683046005963FA27710458545"] },
        googleCloud: { path: "doc/apt-key.gpg" },
    },
    /** cuDNN 9 and NCCL from NVIDIA's repository (package versions there: cuDNN `9.x.y.z-1`, NCCL `2.x.y-1+cudaX.Y`). */
    cudnn: "9.8.0.87",
    nccl: "2.26.2",
    /** Debian 12's docker.io (upstream version; the Debian revision may move). */
    dockerIo: "20.10.24",
    nvidiaContainerToolkit: "1.17.8",
    apptainer: "1.4.1",
    grafana: "12.0.2",
    /**
     * NVIDIA's DCGM exporter image for data-centre GPUs. Containers run by digest only
     * (`name:tag@sha256:<64 hex>`); no digest is pinned here because none could be read from nvcr.io where this was
     * written, so `monitoring.dcgmExporter.image` with its digest is required when dcgm-exporter runs.
     */
    dcgmExporterImage: "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04",
    python: "3.11",
    torch: "2.7.1",
    ipykernel: "6.29.5",
    /** google-cloud-cli=<this>-0 from Google's apt repository; X.509 workload identity federation needs a 2025 release. */
    googleCloudCli: "520.0.0",
    /** Cloud Storage FUSE (only with gcp.hybrid.data.mode gcsfuse). */
    gcsfuse: "2.11.1",
} as const;
