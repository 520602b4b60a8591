import { grantsOf, isProjectIamType, ResourceRule } from "./types";

/** The cloud-node and tunnel-gateway service accounts (components/gcp/naming serviceAccountIds.cloudNode, .tunnelGateway). */
const CLOUD_NODE_SA = /^serviceAccount:[a-z0-9-]+-(cnode|wg-gw)@[a-z0-9-]+\.iam\.gserviceaccount\.com$/;
const CLOUD_NODE_PROJECT_ROLES = new Set(["roles/logging.logWriter"]);

export const cloudNodeRules: ResourceRule[] = [
    {
        kind: "resource",
        name: "cloud-node-sa-project-roles",
        description: "Cloud nodes' and the tunnel gateway's service accounts hold no project-level role beyond writing logs; data, the munge key and the gateway's key are granted on their resources.",
        severity: "high",
        sources: ["CIS GCP 1.5 (least privilege)", "CKV_GCP_41 (analogue)"],
        remediation: "Grant the cloud-node account access on the bucket or secret it needs, not on the project.",
        enforcementLevel: "mandatory",
        appliesTo: isProjectIamType,
        validate: (r) =>
            grantsOf(r)
                .filter((g) => CLOUD_NODE_SA.test(g.member) && !CLOUD_NODE_PROJECT_ROLES.has(g.role))
                .map((g) => `grants ${g.role} on the project to the cloud-node or tunnel-gateway account ${g.member}`),
    },
    {
        kind: "resource",
        name: "cloud-node-template-private",
        description: "Instance templates give no public IP, run as a dedicated service account (not the default compute one) and block project-wide SSH keys.",
        severity: "high",
        sources: ["CIS GCP 4.1", "CIS GCP 4.3", "CIS GCP 4.9", "CKV_GCP_40 (analogue)"],
        remediation: "Remove accessConfigs (use Cloud NAT), set serviceAccount to the stack's cloud-node account, and metadata block-project-ssh-keys=TRUE.",
        enforcementLevel: "mandatory",
        appliesTo: ["gcp:compute/instanceTemplate:InstanceTemplate"],
        validate: (r) => {
            const out: string[] = [];
            const nics: any[] = Array.isArray(r.props.networkInterfaces) ? r.props.networkInterfaces : [];
            if (nics.some((n) => (n.accessConfigs ?? []).length > 0 || (n.ipv6AccessConfigs ?? []).length > 0)) out.push("a network interface has a public IP (accessConfigs)");
            const email: unknown = r.props.serviceAccount?.email;
            if (typeof email !== "string" || /-compute@developer\.gserviceaccount\.com$/.test(email)) out.push("runs as the default compute service account (or none)");
            if (String(r.props.metadata?.["block-project-ssh-keys"] ?? "").toUpperCase() !== "TRUE") out.push("project-wide SSH keys are not blocked");
            return out;
        },
    },
];
