// The NVIDIA component's config rules, run by the schema (config/schema.ts):
// branch, open modules, driver version and CUDA default fit together, so the
// component trusts its input.
import type { Problem } from "../../../config/common";
import { versions } from "../../../config/versions";
import type { WorkstationConfig } from "../../../config/workstation";

/** Problems as [path under aihpc:workstation, message]. */
export function nvidiaProblems(ws: WorkstationConfig): Problem[] {
    const out: Problem[] = [];
    const nv = ws.nvidia;
    if (!nv.enabled) return out;
    const d = nv.driver;
    const at = (...p: string[]) => ["nvidia", ...p];
    if (d.source === "debian" && d.branch !== undefined && d.branch !== versions.debianDriverBranch) {
        out.push([at("driver", "branch"), `Debian 12's nvidia-driver is the ${versions.debianDriverBranch} branch (its 470 legacy branch is the separate nvidia-tesla-470-* packages, not installed here): use "${versions.debianDriverBranch}", or source 'cuda-repo' for '${d.branch}'`]);
    }
    if (d.source === "cuda-repo" && d.branch !== undefined && Number(d.branch) < 550) {
        out.push([at("driver", "branch"), `NVIDIA's Debian 12 repository carries branches 550 and newer, got '${d.branch}'`]);
    }
    if (d.openKernelModules && d.source !== "cuda-repo") {
        out.push([at("driver", "openKernelModules"), "open kernel modules come from source 'cuda-repo' here: the debian source installs non-free nvidia-kernel-dkms (Debian 12's contrib nvidia-open-kernel-dkms 535 is not wired in)"]);
    }
    const cuda = nv.cuda;
    if (new Set(cuda.versions).size !== cuda.versions.length) out.push([at("cuda", "versions"), "a CUDA version is listed twice"]);
    if (cuda.default !== undefined && !cuda.versions.includes(cuda.default)) {
        out.push([at("cuda", "default"), `'${cuda.default}' is not installed: expected one of ${cuda.versions.join(", ") || "the versions in nvidia.cuda.versions (none listed)"}`]);
    }
    if (cuda.versions.length === 0 && ws.acceptance.enabled) {
        out.push([at("cuda", "versions"), "the GPU acceptance suite builds CUDA code: list a CUDA version here, or turn workstation.acceptance off"]);
    }
    if (d.source === "cuda-repo" && d.version !== undefined) {
        out.push([at("driver", "version"), "an exact driver version is for source 'debian': with 'cuda-repo' the branch is pinned (workstation.nvidia.driver.branch)"]);
    }
    if (d.source === "debian" && d.version !== undefined && d.version.split(".")[0] !== versions.debianDriverBranch) {
        out.push([
            at("driver", "version"),
            `Debian 12 ships the ${versions.debianDriverBranch} branch, got '${d.version}': use a ${versions.debianDriverBranch}.x version, or source 'cuda-repo' with a branch`,
        ]);
    }
    if (d.allowReboot && ws.transport === "local") {
        out.push([at("driver", "allowReboot"), "transport 'local' provisions the machine that runs Pulumi, which cannot reboot itself mid-deployment: reboot by hand when the driver asks"]);
    }
    return out;
}
