// Every pinned version the stack installs, in one place (DeepOps keeps these in
// one defaults file too). Bump here, and the plan shows which steps re-run.
export const versions = {
    /** Debian 12's only driver branch in non-free. */
    debianDriverBranch: "535",
    /** NVIDIA's CUDA repository for Debian 12: 570+ is needed for Blackwell. */
    cudaRepoDriverBranch: "570",
    cuda: "12.8",
    nvidiaContainerToolkit: "1.17.8",
    apptainer: "1.4.1",
    grafana: "12.0.2",
    python: "3.11",
    torch: "2.7.1",
} as const;
