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
    /** NVIDIA's cuda-keyring package (repository + signing key) for Debian 12, and the key it must carry. */
    cudaKeyring: "1.1-1",
    cudaRepoKeyFingerprint: "EB693B3035CD5710E231E123A4B469963BF863CC",
    /** cuDNN 9 and NCCL from NVIDIA's repository (package versions there: cuDNN `9.x.y.z-1`, NCCL `2.x.y-1+cudaX.Y`). */
    cudnn: "9.8.0.87",
    nccl: "2.26.2",
    /** Debian 12's docker.io (upstream version; the Debian revision may move). */
    dockerIo: "20.10.24",
    nvidiaContainerToolkit: "1.17.8",
    apptainer: "1.4.1",
    grafana: "12.0.2",
    /** NVIDIA's DCGM exporter image for data-centre GPUs (a pinned tag; add a digest in config to pin harder). */
    dcgmExporterImage: "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04",
    python: "3.11",
    torch: "2.7.1",
    ipykernel: "6.29.5",
    /** google-cloud-cli=<this>-0 from Google's apt repository; X.509 workload identity federation needs a 2025 release. */
    googleCloudCli: "520.0.0",
    /** Cloud Storage FUSE (only with gcp.hybrid.data.mode gcsfuse). */
    gcsfuse: "2.11.1",
} as const;
