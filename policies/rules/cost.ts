import { ResourceRule, StackRule } from "./types";

/** Google Cloud resource types of this stack that take `labels`. */
export const LABELLED_TYPES = [
    "gcp:storage/bucket:Bucket",
    "gcp:artifactregistry/repository:Repository",
    "gcp:vertex/aiTensorboard:AiTensorboard",
    "gcp:vertex/aiEndpoint:AiEndpoint",
    "gcp:vertex/aiFeatureStore:AiFeatureStore",
    "gcp:workbench/instance:Instance",
    "gcp:secretmanager/secret:Secret",
    "gcp:pubsub/topic:Topic",
    "gcp:compute/instance:Instance",
    "gcp:kms/cryptoKey:CryptoKey",
];

export const costResourceRules: ResourceRule[] = [
    {
        kind: "resource",
        name: "labels-required",
        description: "Every resource that takes labels carries the required ones (cost attribution).",
        severity: "low",
        sources: ["Google Cloud cost management: labels", "CKV_GCP_x (label policies)"],
        remediation: "Add the labels to gcp.labels or to the component (the stack adds managed-by and stack itself).",
        enforcementLevel: "mandatory",
        config: { labels: { type: "array", items: { type: "string" }, default: ["managed-by", "stack"], description: "Label keys every labelled resource must have." } },
        appliesTo: LABELLED_TYPES,
        validate: (r, cfg) => {
            const have = r.type === "gcp:workbench/instance:Instance" ? { ...(r.props.labels ?? {}) } : (r.props.labels ?? {});
            return (cfg.labels as string[]).filter((k) => !(k in have)).map((k) => `missing label '${k}'`);
        },
    },
    {
        kind: "resource",
        name: "workbench-accelerator-allowlist",
        description: "Workbench GPUs come from an allow-list (the expensive ones need a policy change).",
        severity: "medium",
        sources: ["aihpc cost control"],
        remediation: "Pick an allowed accelerator, or extend `allowed` in the policy config.",
        enforcementLevel: "mandatory",
        config: {
            allowed: { type: "array", items: { type: "string" }, default: ["NVIDIA_TESLA_T4", "NVIDIA_L4"], description: "Accelerator types a Workbench instance may use." },
        },
        appliesTo: ["gcp:workbench/instance:Instance"],
        validate: (r, cfg) =>
            (r.props.gceSetup?.acceleratorConfigs ?? [])
                .map((a: any) => String(a.type))
                .filter((t: string) => !(cfg.allowed as string[]).includes(t))
                .map((t: string) => `accelerator ${t} is not in the allow-list (${(cfg.allowed as string[]).join(", ")})`),
    },
];

export const costStackRules: StackRule[] = [
    {
        kind: "stack",
        name: "budget-required",
        description: "A stack that creates Google Cloud resources has a budget with threshold rules.",
        severity: "high",
        sources: ["CIS GCP (billing alerts)", "Google Cloud cost management: budgets"],
        remediation: "Set gcp.budget (billingAccount, amount, thresholds).",
        enforcementLevel: "mandatory",
        validate: (resources) => {
            const cloud = resources.some((r) => r.type.startsWith("gcp:"));
            if (!cloud) return [];
            const budgets = resources.filter((r) => r.type === "gcp:billing/budget:Budget");
            if (budgets.length === 0) return [{ message: "the stack creates Google Cloud resources but no billing budget" }];
            return budgets
                .filter((b) => !Array.isArray(b.props.thresholdRules) || b.props.thresholdRules.length === 0)
                .map((b) => ({ message: "budget has no threshold rules", urn: b.urn }));
        },
    },
];
