// Every file the NVIDIA steps install, rendered here (pure functions: they
// show in the plan and are unit-tested); the scripts only compare, install
// and act on them. Paths are defined once, here, and passed as settings.
import { aptSource, fileSet } from "../../steps/files";

export const PATHS = {
    driverPin: "/etc/apt/preferences.d/aihpc-nvidia-pin",
    nouveau: "/etc/modprobe.d/aihpc-blacklist-nouveau.conf",
    modules: "/etc/lmod/modules/cuda",
} as const;

/** The lmod folder of the CUDA module files (on lmod's default MODULEPATH). */
export const MODULES_DIR = PATHS.modules;

/** The NVIDIA driver family: every package NVIDIA's repository also carries under the same names (so a newer one there cannot move it). */
export const DRIVER_PIN_PACKAGES = [
    "nvidia-*",
    "libnvidia-*",
    "libcuda1",
    "libcudadebugger1",
    "libnvcuvid1",
    "libnvoptix1",
    "libgles-nvidia*",
    "libegl-nvidia*",
    "libglx-nvidia*",
    "libgl1-nvidia*",
    "firmware-nvidia-*",
    "xserver-xorg-video-nvidia*",
    "cuda-drivers-*",
];

/** modprobe.d: nouveau kept away from the GPU. */
export const NOUVEAU_BLACKLIST = ["# Managed by aihpc (workstation.nvidia): the NVIDIA driver owns the GPU", "blacklist nouveau", "options nouveau modeset=0"].join("\n");

/** NVIDIA's CUDA repository for Debian 12 (a flat repository: `REPO/ /`). */
export function cudaSource(repository: string): string {
    return aptSource("cuda", "workstation.nvidia.repository", [`${repository}/ /`]);
}

/** "12.8" -> "12-8" (NVIDIA's package suffix). */
export const cudaDash = (v: string) => v.replace(".", "-");

/** Where a toolkit lives (NVIDIA's packages install to /usr/local/cuda-X.Y). */
export const cudaHome = (v: string) => `/usr/local/cuda-${v}`;

/** The lmod module file (Lua) for one CUDA version. */
export function cudaModuleFile(version: string): string {
    const home = cudaHome(version);
    return [
        "-- Managed by aihpc (Pulumi): workstation.nvidia.cuda.versions",
        `whatis("CUDA toolkit ${version} (NVIDIA's cuda-toolkit-${cudaDash(version)} package)")`,
        `help([[CUDA ${version}: nvcc, libraries and tools from ${home}.]])`,
        `local root = "${home}"`,
        `if not isDir(root) then LmodError("CUDA ${version} is not installed at " .. root .. ": add it to workstation.nvidia.cuda.versions") end`,
        'family("cuda")',
        'setenv("CUDA_HOME", root)',
        'setenv("CUDA_PATH", root)',
        'prepend_path("PATH", pathJoin(root, "bin"))',
        'prepend_path("LD_LIBRARY_PATH", pathJoin(root, "lib64"))',
        'prepend_path("MANPATH", pathJoin(root, "share/man"))',
        "",
    ].join("\n");
}

/** The module files of every configured version, as a file set (`<version>.lua`). */
export function cudaModuleFiles(versions: string[]): string {
    return fileSet(Object.fromEntries(versions.map((v) => [`${v}.lua`, cudaModuleFile(v)])), "workstation.nvidia.cuda.versions");
}
