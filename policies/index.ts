// The CrossGuard pack: `pulumi preview --policy-pack policies`. It only adapts
// the rule modules (./rules), which the offline plan and the tests run too.
import { PolicyPack } from "@pulumi/policy";
import { toPolicy } from "./pack";
import { rules } from "./rules";

new PolicyPack("aihpc", {
    description: "aihpc: secure defaults for the workstation and Google Cloud sides",
    policies: rules.map(toPolicy),
});
