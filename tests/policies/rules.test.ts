import { evaluatePolicies, PolicyConfigFile } from "../../policies/evaluate";
import { RuleResource, rules } from "../../policies/rules";

let n = 0;
function res(type: string, props: Record<string, any>, extra: Partial<RuleResource> = {}): RuleResource {
    n++;
    return { type, name: `r${n}`, urn: `urn:pulumi:t::aihpc::${type}::r${n}`, props, protect: false, ...extra };
}

const BUCKET = "gcp:storage/bucket:Bucket";
const REPO = "gcp:artifactregistry/repository:Repository";
const WB = "gcp:workbench/instance:Instance";
const PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember";
const PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider";
const REMOTE = "command:remote:Command";
const labels = { "managed-by": "pulumi", stack: "t" };

const goodBucket = (role: string, extra: Record<string, any> = {}) => ({
    name: `aihpc-t-${role}`,
    uniformBucketLevelAccess: true,
    publicAccessPrevention: "enforced",
    softDeletePolicy: { retentionDurationSeconds: 604800 },
    versioning: { enabled: true },
    lifecycleRules: [{ action: { type: "Delete" }, condition: { age: 30 } }],
    labels: { ...labels, role },
    ...extra,
});
const goodRepo = (extra: Record<string, any> = {}) => ({
    format: "DOCKER",
    dockerConfig: { immutableTags: true },
    cleanupPolicies: [
        { id: "keep", action: "KEEP", mostRecentVersions: { keepCount: 10 } },
        { id: "untagged", action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: "1209600s" } },
    ],
    labels,
    ...extra,
});
const goodWorkbench = (setup: Record<string, any> = {}, metadata: Record<string, any> = {}) => ({
    labels,
    gceSetup: {
        disablePublicIp: true,
        shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
        serviceAccounts: [{ email: "aihpc-t-workbench@p.iam.gserviceaccount.com" }],
        metadata: { "idle-timeout-seconds": "3600", "notebook-disable-root": "true", "notebook-disable-downloads": "true", ...metadata },
        acceleratorConfigs: [{ type: "NVIDIA_TESLA_T4", coreCount: 1 }],
        ...setup,
    },
});
const grant = (role: string, member: string) => res(PROJECT_MEMBER, { project: "p", role, member });
const github = (cond: string | undefined) =>
    res(PROVIDER, { attributeCondition: cond, oidc: { issuerUri: "https://token.actions.githubusercontent.com" } });
const ssh = (props: Record<string, any> = {}, extra: Partial<RuleResource> = {}) =>
    res(REMOTE, { connection: { host: "10.0.0.1", hostKey: "ssh-ed25519 AAAA", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----abc" }, create: "bash -c 'true'", ...props }, extra);

// rule -> [resources that pass, resources that fail]
const TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate";
const CNODE = "serviceAccount:aihpc-t-cnode@p.iam.gserviceaccount.com";
const template = (extra: Record<string, any> = {}) => ({
    networkInterfaces: [{ network: "vpc", subnetwork: "subnet" }],
    serviceAccount: { email: "aihpc-t-cnode@p.iam.gserviceaccount.com", scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
    metadata: { "block-project-ssh-keys": "TRUE" },
    ...extra,
});
const cases: Record<string, [RuleResource[], RuleResource[]]> = {
    "cloud-node-sa-project-roles": [
        [grant("roles/logging.logWriter", CNODE), grant("roles/storage.admin", "serviceAccount:aihpc-t-ci-deploy@p.iam.gserviceaccount.com")],
        [grant("roles/storage.objectViewer", CNODE), grant("roles/secretmanager.secretAccessor", CNODE)],
    ],
    "cloud-node-template-private": [
        [res(TEMPLATE, template())],
        [
            res(TEMPLATE, template({ networkInterfaces: [{ network: "vpc", accessConfigs: [{}] }] })),
            res(TEMPLATE, template({ serviceAccount: { email: "123-compute@developer.gserviceaccount.com" } })),
            res(TEMPLATE, template({ metadata: {} })),
        ],
    ],
    "bucket-uniform-access": [[res(BUCKET, goodBucket("datasets"), { protect: true })], [res(BUCKET, goodBucket("x", { uniformBucketLevelAccess: false }))]],
    "bucket-public-access-prevention": [[res(BUCKET, goodBucket("x"))], [res(BUCKET, goodBucket("x", { publicAccessPrevention: "inherited" }))]],
    "bucket-no-public-iam": [
        [res("gcp:storage/bucketIAMMember:BucketIAMMember", { role: "roles/storage.objectViewer", member: "group:ml@example.com" })],
        [
            res("gcp:storage/bucketIAMMember:BucketIAMMember", { role: "roles/storage.objectViewer", member: "allUsers" }),
            res("gcp:storage/bucketIAMBinding:BucketIAMBinding", { role: "roles/storage.objectViewer", members: ["group:a@b.c", "allAuthenticatedUsers"] }),
        ],
    ],
    "bucket-versioning": [[res(BUCKET, goodBucket("checkpoints")), res(BUCKET, goodBucket("scratch", { versioning: { enabled: false } }))], [res(BUCKET, goodBucket("artifacts", { versioning: { enabled: false } }), { protect: true })]],
    "bucket-soft-delete": [[res(BUCKET, goodBucket("x", { softDeletePolicy: undefined }))], [res(BUCKET, goodBucket("x", { softDeletePolicy: { retentionDurationSeconds: 0 } }))]],
    "bucket-checkpoint-lifecycle": [[res(BUCKET, goodBucket("checkpoints"))], [res(BUCKET, goodBucket("checkpoints", { lifecycleRules: [{ action: { type: "SetStorageClass", storageClass: "COLDLINE" }, condition: { age: 30 } }] }))]],
    "bucket-data-protected": [
        [res(BUCKET, goodBucket("datasets"), { protect: true }), res(BUCKET, goodBucket("artifacts"), { retainOnDelete: true }), res(BUCKET, goodBucket("checkpoints"))],
        [res(BUCKET, goodBucket("datasets")), res(BUCKET, goodBucket("checkpoints", { forceDestroy: true }))],
    ],
    "registry-no-public-iam": [
        [res("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", { role: "roles/artifactregistry.reader", member: "serviceAccount:a@p.iam.gserviceaccount.com" })],
        [res("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", { role: "roles/artifactregistry.reader", member: "allUsers" })],
    ],
    "registry-immutable-tags": [[res(REPO, goodRepo()), res(REPO, goodRepo({ format: "PYTHON", dockerConfig: undefined }))], [res(REPO, goodRepo({ dockerConfig: { immutableTags: false } }))]],
    "registry-cleanup-policies": [
        [res(REPO, goodRepo()), res(REPO, goodRepo({ mode: "REMOTE_REPOSITORY", cleanupPolicies: [] }))],
        [res(REPO, goodRepo({ cleanupPolicies: [] })), res(REPO, goodRepo({ cleanupPolicyDryRun: true }))],
    ],
    "registry-vulnerability-scanning": [[res(REPO, goodRepo({ vulnerabilityScanningConfig: { enablementConfig: "INHERITED" } }))], [res(REPO, goodRepo({ vulnerabilityScanningConfig: { enablementConfig: "DISABLED" } }))]],
    "workbench-no-public-ip": [[res(WB, goodWorkbench())], [res(WB, goodWorkbench({ disablePublicIp: false }))]],
    "workbench-shielded-vm": [[res(WB, goodWorkbench())], [res(WB, goodWorkbench({ shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: false, enableIntegrityMonitoring: true } }))]],
    "workbench-dedicated-service-account": [
        [res(WB, goodWorkbench())],
        [res(WB, goodWorkbench({ serviceAccounts: [] })), res(WB, goodWorkbench({ serviceAccounts: [{ email: "123-compute@developer.gserviceaccount.com" }] }))],
    ],
    "workbench-idle-shutdown": [[res(WB, goodWorkbench())], [res(WB, goodWorkbench({}, { "idle-timeout-seconds": undefined })), res(WB, goodWorkbench({}, { "idle-timeout-seconds": "604800" }))]],
    "workbench-root-and-downloads": [[res(WB, goodWorkbench())], [res(WB, goodWorkbench({}, { "notebook-disable-root": "false" }))]],
    "iam-no-service-account-keys": [[res("gcp:serviceaccount/account:Account", { accountId: "a" })], [res("gcp:serviceaccount/key:Key", { serviceAccountId: "a" })]],
    "iam-no-basic-roles": [[grant("roles/storage.objectViewer", "group:g@x.y")], [grant("roles/editor", "group:g@x.y"), res("gcp:storage/bucketIAMBinding:BucketIAMBinding", { role: "roles/owner", members: ["group:g@x.y"] })]],
    "iam-no-admin-roles-for-service-accounts": [
        [grant("roles/storage.objectAdmin".replace("Admin", "Creator"), "serviceAccount:a@p.iam.gserviceaccount.com"), grant("roles/storage.admin", "serviceAccount:aihpc-t-ci-deploy@p.iam.gserviceaccount.com"), grant("roles/storage.admin", "group:admins@x.y")],
        [grant("roles/storage.admin", "serviceAccount:aihpc-t-workstation@p.iam.gserviceaccount.com")],
    ],
    "iam-no-project-impersonation": [
        [res("gcp:serviceaccount/iAMMember:IAMMember", { serviceAccountId: "x", role: "roles/iam.serviceAccountUser", member: "serviceAccount:a@p.iam.gserviceaccount.com" })],
        [grant("roles/iam.serviceAccountTokenCreator", "serviceAccount:a@p.iam.gserviceaccount.com")],
    ],
    "iam-no-default-compute-sa": [[grant("roles/logging.logWriter", "serviceAccount:a@p.iam.gserviceaccount.com")], [grant("roles/logging.logWriter", "serviceAccount:123-compute@developer.gserviceaccount.com")]],
    "iam-no-user-members": [[grant("roles/aiplatform.user", "group:ml@x.y")], [grant("roles/aiplatform.user", "user:alice@x.y")]],
    "iam-no-wildcard-principal-sets": [
        [grant("roles/iam.workloadIdentityUser", "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/attribute.repository_id/42")],
        [grant("roles/iam.workloadIdentityUser", "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/*")],
    ],
    "wif-attribute-condition": [[github("assertion.repository_id == '1' && assertion.repository_owner_id == '2'")], [github(undefined), res(PROVIDER, { attributeCondition: " ", x509: {} })]],
    "wif-github-pins-ids": [
        [github("assertion.repository_id == '1' && assertion.repository_owner_id == '2'"), res(PROVIDER, { attributeCondition: "true", x509: {} })],
        [github("assertion.repository == 'o/r'")],
    ],
    "wif-deploy-environment": [
        [
            github("assertion.repository_id == '1' && assertion.repository_owner_id == '2'"),
            res(PROVIDER, {
                oidc: { issuerUri: "https://token.actions.githubusercontent.com" },
                attributeMapping: { "attribute.ref": "assertion.ref", "attribute.environment": "assertion.environment" },
                attributeCondition: "assertion.repository_id == '1' && assertion.ref == 'refs/heads/main' && assertion.environment == 'production'",
            }),
        ],
        [
            res(PROVIDER, { oidc: { issuerUri: "https://token.actions.githubusercontent.com" }, attributeMapping: { "attribute.ref": "assertion.ref" }, attributeCondition: "assertion.repository_id == '1'" }),
            res(PROVIDER, { oidc: { issuerUri: "https://token.actions.githubusercontent.com" }, attributeMapping: {}, attributeCondition: "assertion.repository_id == '1' && assertion.ref == 'refs/heads/main'" }),
        ],
    ],
    "labels-required": [[res(BUCKET, goodBucket("x")), res("gcp:compute/network:Network", {})], [res(BUCKET, goodBucket("x", { labels: { role: "x" } }))]],
    "workbench-accelerator-allowlist": [[res(WB, goodWorkbench())], [res(WB, goodWorkbench({ acceleratorConfigs: [{ type: "NVIDIA_H100_80GB", coreCount: 8 }] }))]],
    "budget-required": [
        [res(BUCKET, goodBucket("x")), res("gcp:billing/budget:Budget", { thresholdRules: [{ thresholdPercent: 0.5 }] })],
        [res(BUCKET, goodBucket("x"))],
    ],
    "ssh-host-key-pinned": [[ssh()], [ssh({ connection: { host: "10.0.0.1", privateKey: "k" } })]],
    "command-no-secret-inputs": [[ssh({}, { secretInputs: new Set(["connection", "stdin"]) })], [ssh({}, { secretInputs: new Set(["connection", "create"]) })]],
    "gpu-stack-versions-pinned": [
        [ssh({ create: "apt-get install -y cuda-toolkit-12-8 nvidia-driver=535.216.01-1" }), ssh({ delete: "apt-get purge -y cuda-toolkit" })],
        [ssh({ create: "apt-get install -y cuda-toolkit" }), ssh({ update: "apt-get install -y nvidia-driver firmware-misc-nonfree" })],
    ],
    // Exact pins as the steps carry them: the driver at 535.261.03 holds back bookworm-security's 535.309.01-0+deb12u1
    // (config/versions.ts securityBuilds); the branch (no EXACT_PINS), the security build itself or a newer one does not.
    "debian-exact-pin-security": [
        [
            ssh({ create: "DRIVER_MATCH='535.*' bash step" }),
            ssh({ create: "EXACT_PINS='nvidia-driver=535.309.01-*' bash step" }),
            ssh({ create: "EXACT_PINS='nvidia-driver=535.309.01-0+deb12u1 docker.io=20.10.24+*' bash step" }),
            ssh({ create: "EXACT_PINS='nvidia-smi=535.400.02-1' bash step" }),
            ssh({ create: "true", delete: "EXACT_PINS='nvidia-driver=535.261.03-*' bash step" }),
        ],
        [
            ssh({ create: "EXACT_PINS='nvidia-kernel-dkms=535.261.03-* nvidia-driver=535.261.03-* nvidia-smi=535.261.03-*' bash step" }),
            ssh({ create: "EXACT_PINS='nvidia-driver=535.261.03-1' bash step" }),
            ssh({ create: "EXACT_PINS='slurmd=22.05.8-4+deb12u2' bash step" }),
        ],
    ],
    "command-no-secret-values": [
        [ssh({ stdin: "MUNGE-KEY-0123456789abcdef" }), res("random:index/randomBytes:RandomBytes", { base64: "c2VjcmV0LWJ5dGVzLWZvci10ZXN0aW5n" })],
        [ssh({ create: "echo c2VjcmV0LWJ5dGVzLWZvci10ZXN0aW5n > /etc/munge/munge.key" }), res("random:index/randomBytes:RandomBytes", { base64: "c2VjcmV0LWJ5dGVzLWZvci10ZXN0aW5n" })],
    ],
    "slurm-partitions-name-stack-hosts": [
        [ssh({ stdin: "NodeName=ws1 CPUs=2\nNodeName=ws2 CPUs=2\nPartitionName=gpu Nodes=ws1,ws2 Default=YES\n" })],
        [ssh({ stdin: "NodeName=ws1 CPUs=2\nPartitionName=gpu Nodes=ws1,ws3 Default=YES\n" })],
    ],
};

const only = (name: string): PolicyConfigFile => Object.fromEntries(rules.filter((r) => r.name !== name).map((r) => [r.name, "disabled"]));

describe("policy rules", () => {
    test("every rule has a passing and a failing case, a source, a severity and a remediation", () => {
        expect(Object.keys(cases).sort()).toEqual(rules.map((r) => r.name).sort());
        expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
        for (const r of rules) {
            expect(r.sources.length).toBeGreaterThan(0);
            expect(r.remediation.length).toBeGreaterThan(10);
        }
    });

    test.each(Object.entries(cases))("%s", (name, [pass, fail]) => {
        expect(evaluatePolicies(pass, only(name))).toEqual([]);
        const found = evaluatePolicies(fail, only(name));
        expect(found.length).toBeGreaterThan(0);
        const rule = rules.find((r) => r.name === name)!;
        for (const v of found) expect(v).toMatchObject({ rule: name, enforcement: rule.enforcementLevel });
        // A failing resource (not only a stack-wide finding) is named where the rule is per resource.
        if (rule.kind === "resource") {
            const failing = new Set(found.map((v) => v.resource));
            expect(failing.size).toBe(fail.length);
        }
    });

    test("enforcement is configurable per rule and for all rules", () => {
        const bad = [res(BUCKET, goodBucket("x", { uniformBucketLevelAccess: false }))];
        const base = only("bucket-uniform-access");
        expect(evaluatePolicies(bad, { ...base, "bucket-uniform-access": "advisory" })[0].enforcement).toBe("advisory");
        expect(evaluatePolicies(bad, { ...base, "bucket-uniform-access": { enforcementLevel: "disabled" } })).toEqual([]);
        expect(evaluatePolicies(bad, { all: "advisory" }).every((v) => v.enforcement === "advisory")).toBe(true);
    });

    test("rule settings come from the policy config", () => {
        const wb = [res(WB, goodWorkbench({ acceleratorConfigs: [{ type: "NVIDIA_H100_80GB", coreCount: 8 }] }))];
        expect(evaluatePolicies(wb, { ...only("workbench-accelerator-allowlist"), "workbench-accelerator-allowlist": { allowed: ["NVIDIA_H100_80GB"] } })).toEqual([]);
        const user = [grant("roles/aiplatform.user", "user:alice@x.y")];
        expect(evaluatePolicies(user, { ...only("iam-no-user-members"), "iam-no-user-members": { allowUserMembers: true } })).toEqual([]);
    });
});
