import { ResourceRule, truthy } from "./types";

const WORKBENCH = "gcp:workbench/instance:Instance";
const gce = (p: Record<string, any>) => (p.gceSetup ?? {}) as Record<string, any>;

export const workbenchRules: ResourceRule[] = [
    {
        kind: "resource",
        name: "workbench-no-public-ip",
        description: "Workbench instances have no public IP.",
        severity: "high",
        sources: ["CIS GCP 4.9", "CKV_GCP_89"],
        remediation: "Set gceSetup.disablePublicIp: true; reach the instance through the Workbench proxy or IAP.",
        enforcementLevel: "mandatory",
        appliesTo: [WORKBENCH],
        validate: (r) => (gce(r.props).disablePublicIp === true ? [] : ["the instance gets a public IP"]),
    },
    {
        kind: "resource",
        name: "workbench-shielded-vm",
        description: "Workbench instances are shielded VMs: secure boot, vTPM and integrity monitoring.",
        severity: "medium",
        sources: ["CIS GCP 4.8", "CKV_GCP_45"],
        remediation: "Set gceSetup.shieldedInstanceConfig { enableSecureBoot, enableVtpm, enableIntegrityMonitoring } to true.",
        enforcementLevel: "mandatory",
        appliesTo: [WORKBENCH],
        validate: (r) => {
            const s = gce(r.props).shieldedInstanceConfig ?? {};
            return ["enableSecureBoot", "enableVtpm", "enableIntegrityMonitoring"].filter((k) => s[k] !== true).map((k) => `shieldedInstanceConfig.${k} is not true`);
        },
    },
    {
        kind: "resource",
        name: "workbench-dedicated-service-account",
        description: "Workbench instances run as a dedicated service account, never the default compute one.",
        severity: "high",
        sources: ["CIS GCP 4.1", "CKV_GCP_30"],
        remediation: "Set gceSetup.serviceAccounts[0].email to the stack's Workbench service account.",
        enforcementLevel: "mandatory",
        appliesTo: [WORKBENCH],
        validate: (r) => {
            const emails: string[] = (gce(r.props).serviceAccounts ?? []).map((s: any) => String(s.email ?? ""));
            if (emails.length === 0 || emails.every((e) => e === "")) return ["no service account set: the default compute service account would be used"];
            return emails.filter((e) => e.endsWith("-compute@developer.gserviceaccount.com")).map((e) => `runs as the default compute service account ${e}`);
        },
    },
    {
        kind: "resource",
        name: "workbench-idle-shutdown",
        description: "Workbench instances shut down when idle.",
        severity: "medium",
        sources: ["aihpc cost control", "Vertex AI Workbench idle shutdown"],
        remediation: "Set gceSetup.metadata['idle-timeout-seconds'] (vertex.workbench.idleTimeoutSeconds).",
        enforcementLevel: "mandatory",
        config: { maxIdleSeconds: { type: "number", default: 86400, description: "Longest idle time allowed before shutdown." } },
        appliesTo: [WORKBENCH],
        validate: (r, cfg) => {
            const v = Number(gce(r.props).metadata?.["idle-timeout-seconds"]);
            if (!Number.isFinite(v) || v <= 0) return ["no idle-timeout-seconds in metadata"];
            return v > cfg.maxIdleSeconds ? [`idle timeout ${v}s is over the allowed ${cfg.maxIdleSeconds}s`] : [];
        },
    },
    {
        kind: "resource",
        name: "workbench-root-and-downloads",
        description: "Root access and file downloads on Workbench instances are off unless the policy config allows them.",
        severity: "medium",
        sources: ["CKV_GCP_126 (root access)", "Vertex AI Workbench notebook-disable-root / notebook-disable-downloads"],
        remediation: "Set metadata notebook-disable-root and notebook-disable-downloads to \"true\", or allow them in the policy config.",
        enforcementLevel: "mandatory",
        config: {
            allowRootAccess: { type: "boolean", default: false, description: "Allow sudo in the notebook." },
            allowFileDownloads: { type: "boolean", default: false, description: "Allow downloading files from JupyterLab." },
        },
        appliesTo: [WORKBENCH],
        validate: (r, cfg) => {
            const md = gce(r.props).metadata ?? {};
            const out: string[] = [];
            if (!cfg.allowRootAccess && !truthy(md["notebook-disable-root"])) out.push("root access is on (metadata notebook-disable-root is not \"true\")");
            if (!cfg.allowFileDownloads && !truthy(md["notebook-disable-downloads"])) out.push("file downloads are on (metadata notebook-disable-downloads is not \"true\")");
            return out;
        },
    },
];
