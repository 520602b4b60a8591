// The apt files the container steps install, rendered here (pure functions:
// they show in the plan and are unit-tested); daemon.json is rendered in
// index.ts. Paths are defined once, here, and passed as settings.
import { versions } from "../../../config/versions";
import { ContainersConfig } from "../../../config/workstation";
import { aptPreference, aptSource } from "../../steps/files";

export const PATHS = {
    dockerPin: "/etc/apt/preferences.d/aihpc-docker",
    daemonJson: "/etc/docker/daemon.json",
    cdi: "/etc/cdi/nvidia.yaml",
} as const;

/**
 * docker.io's `Pin: version` glob: its line (`20.10.*`: the suite's builds, security ones included, as they come), or
 * an exact upstream version as an opt-in (`20.10.24+*`: Debian's revision may still move).
 */
export const dockerVersionGlob = (c: ContainersConfig) => (c.docker.version ? `${c.docker.version}+*` : `${versions.dockerIoLine}.*`);

export function dockerPin(c: ContainersConfig): string {
    return aptPreference("Managed by aihpc (workstation.containers.docker.version)", [{ packages: ["docker.io"], version: dockerVersionGlob(c) }]);
}

/** The NVIDIA container toolkit's packages, all held at one version. */
export const TOOLKIT_PACKAGES = ["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1"];

/** The apt repository name lib.sh `aihpc_apt_repo` installs the toolkit's source, pin and keyring under. */
export const TOOLKIT_REPO_NAME = "nvidia-container-toolkit";

export const toolkitVersionGlob = (c: ContainersConfig) => `${c.nvidiaToolkit.version}-*`;

export function toolkitSource(c: ContainersConfig): string {
    // `$(ARCH)` is apt's own substitution, left for apt.
    return aptSource(TOOLKIT_REPO_NAME, "workstation.containers.nvidiaToolkit.repository", [`${c.nvidiaToolkit.repository}/$(ARCH) /`]);
}

export function toolkitPin(c: ContainersConfig): string {
    return aptPreference("Managed by aihpc (workstation.containers.nvidiaToolkit.version)", [{ packages: TOOLKIT_PACKAGES, version: toolkitVersionGlob(c) }]);
}
