// Every version the stack installs, in one place (DeepOps keeps these in one
// defaults file too). Bump here, and the plan shows which steps re-run.
//
// Pinning policy (README "Versions"):
// - Debian packages follow a release LINE, never a build: the driver branch, docker.io's 20.10, Slurm's 22.05 are
//   what the suite ships, and apt takes each security build of that line (bookworm-security, bookworm-updates) as it
//   comes. An exact version is an explicit opt-in in config (workstation.nvidia.driver.version,
//   workstation.containers.docker.version); the policy rule `debian-exact-pin-security` warns when one holds back a
//   security build recorded below, and `npm run versions` checks the live archive.
// - Third-party repositories (NVIDIA, Grafana, Google Cloud) keep exact versions, with key fingerprints and
//   checksums: their indexes are not Debian's, nothing here can watch them for security builds.
export const versions = {
    /** The Debian release every host runs, and the suites its sources name (base-system's sources step). */
    debianSuite: "bookworm",
    debianSuites: ["bookworm", "bookworm-updates", "bookworm-security"],
    /**
     * The driver line of Debian 12's nvidia-driver (non-free): 535 (bookworm non-free: 535.261.03-1; bookworm-security:
     * 535.309.01-0+deb12u1, both read from deb.debian.org's Packages indexes on 2026-12-02). Debian 12 also has
     * contrib's nvidia-open-kernel-dkms 535 and a 470 legacy branch (nvidia-tesla-470-driver, 470.256.02-1~deb12u1);
     * neither is installed here. Security updates may move the upstream version within the branch (535.261.03 ->
     * 535.309.01), so the default pin is the branch, `535.*`.
     */
    debianDriverBranch: "535",
    /** Debian 12's docker.io line (bookworm main: 20.10.24+dfsg1-1+deb12u1+b6); apt follows its builds. */
    dockerIoLine: "20.10",
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

/** A Debian package the stack installs from the suite, by component; `line` where the stack pins one. */
export interface DebianPackage {
    name: string;
    /** The config section whose step installs it. */
    component: string;
    /** The release line (`Pin: version <line>.*`); none: whatever the suite ships. */
    line?: string;
    /** Where a real install needs hardware (a GPU and its kernel module): the testbed only simulates it. */
    hardware?: boolean;
    /** Installed only when apt can install it beside the rest (its step says why not otherwise). */
    optional?: boolean;
}

/**
 * Debian-side packages of every component with their defaults (base-system's own list is BASE_PACKAGES in
 * components/workstation/base-system). `npm run versions` checks each against the archive;
 * tests/testbed/installable.test.ts installs them on a real host through the test proxy.
 */
export const debianPackages: readonly DebianPackage[] = [
    ...["nvidia-driver", "nvidia-kernel-dkms", "nvidia-smi"].map((name) => ({ name, component: "workstation.nvidia", line: versions.debianDriverBranch, hardware: true })),
    ...["dkms", "firmware-misc-nonfree", "nvidia-persistenced", "mokutil", "lmod"].map((name) => ({ name, component: "workstation.nvidia", hardware: name !== "lmod" })),
    { name: "docker.io", component: "workstation.containers", line: versions.dockerIoLine },
    { name: "jq", component: "workstation.containers" },
    { name: "munge", component: "workstation.slurm" },
    ...["slurm-client", "slurmctld", "slurmd"].map((name) => ({ name, component: "workstation.slurm", line: "22.05" })),
    // Debian rebuilds it after Slurm's security updates, not with them (components/workstation/slurm packages.sh).
    { name: "slurm-wlm-nvml-plugin", component: "workstation.slurm", line: "22.05", hardware: true, optional: true },
    ...["prometheus", "prometheus-node-exporter", "prometheus-alertmanager"].map((name) => ({ name, component: "workstation.monitoring" })),
    ...["python3-venv", "python3-dev"].map((name) => ({ name, component: "workstation.mlRuntime" })),
    { name: "python3", component: "workstation.acceptance" },
];

/** A security build Debian published, as recorded from its archive (policies cannot reach the network). */
export interface SecurityBuild {
    packages: readonly string[];
    version: string;
    suite: string;
    /** Where and when it was read. */
    source: string;
}

/**
 * Known security builds the policy rule `debian-exact-pin-security` compares exact pins against. Refresh from
 * `npm run versions` (its "security" column) when it reports a new one.
 */
export const securityBuilds: readonly SecurityBuild[] = [
    {
        packages: ["nvidia-driver", "nvidia-kernel-dkms", "nvidia-smi", "libnvidia-ml1"],
        version: "535.309.01-0+deb12u1",
        suite: "bookworm-security",
        source: "deb.debian.org/debian-security dists/bookworm-security/non-free/binary-amd64/Packages.xz, read 2026-12-02",
    },
    {
        packages: ["slurm-wlm", "slurm-client", "slurmctld", "slurmd", "slurm-wlm-nvml-plugin"],
        version: "22.05.8-4+deb12u3",
        suite: "bookworm-security",
        source: "deb.debian.org/debian-security dists/bookworm-security/main/binary-amd64/Packages.xz, read 2026-12-02",
    },
];

