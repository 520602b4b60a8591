// The containers component's config rule, run by the schema (config/schema.ts).
import type { Problem } from "../../../config/common";
import type { WorkstationConfig } from "../../../config/workstation";

/** Problems as [path under aihpc:workstation, message]. */
export function containersProblems(ws: WorkstationConfig): Problem[] {
    const ct = ws.containers;
    if (!ct.enabled || !ct.apptainer.enabled || ct.apptainer.sha256 !== undefined) return [];
    return [
        [
            ["containers", "apptainer", "sha256"],
            `required when Apptainer is enabled: the sha256 of apptainer_${ct.apptainer.version}_amd64.deb from the release's sha256sums (https://github.com/apptainer/apptainer/releases)`,
        ],
    ];
}
