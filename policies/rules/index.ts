import { artifactRegistryRules } from "./artifact-registry";
import { cloudNodeRules } from "./cloud-nodes";
import { costResourceRules, costStackRules } from "./cost";
import { iamRules } from "./iam";
import { storageRules } from "./storage";
import { Rule } from "./types";
import { workbenchRules } from "./workbench";
import { workloadIdentityRules } from "./workload-identity";
import { workstationResourceRules, workstationStackRules } from "./workstation";

export * from "./types";

/** Every rule of the aihpc policy pack, in the order they are reported. */
export const rules: Rule[] = [
    ...storageRules,
    ...artifactRegistryRules,
    ...workbenchRules,
    ...iamRules,
    ...cloudNodeRules,
    ...workloadIdentityRules,
    ...costResourceRules,
    ...costStackRules,
    ...workstationResourceRules,
    ...workstationStackRules,
];
