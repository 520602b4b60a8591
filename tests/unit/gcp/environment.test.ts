import { SERVER_METADATA_KEYS } from "../../../components/gcp/workbench";
import { BASIC_ROLES } from "../../../components/gcp/iam";
import { withGcp } from "../../helpers/fixtures";
import { Recorded, runProgram } from "../../helpers/harness";

const SA = (id: string) => `serviceAccount:aihpc-test-${id}@test-project-1.iam.gserviceaccount.com`;
const POOL = "projects/123456789012/locations/global/workloadIdentityPools/aihpc-test-pool";

/** Everything optional switched on. */
function full(): Record<string, any> {
    const raw = withGcp();
    Object.assign(raw.gcp, {
        zone: "europe-west4-a",
        artifactRegistry: { remoteCache: true },
        vertex: { endpoint: true, workbench: { enabled: true, accelerator: { type: "NVIDIA_TESLA_T4", count: 1 }, idleTimeoutSeconds: 1800 } },
        budget: { ...raw.gcp.budget, amount: 250.5, thresholds: [0.9, 0.5], pubsubNotifications: true },
        buckets: { datasets: { protect: false } },
        secrets: { "hf-token": { accessors: ["workstation", "training"] }, "wandb-key": {} },
    });
    return raw;
}

let base: Recorded;
let all: Recorded;
beforeAll(async () => {
    base = await runProgram(withGcp());
    all = await runProgram(full());
});

const gcpResources = (run: Recorded) => run.resources.filter((r) => r.custom && r.type.startsWith("gcp:"));

describe("the gcp environment, defaults", () => {
    test("the stack without gcp config has no Google Cloud resource", async () => {
        const { gcp: _gcp, ...noGcp } = withGcp();
        const run = await runProgram(noGcp);
        expect(gcpResources(run)).toEqual([]);
        expect(run.outputs.gcp).toBeUndefined();
    });

    test("optional parts are absent unless enabled", () => {
        for (const type of ["gcp:workbench/instance:Instance", "gcp:vertex/aiEndpoint:AiEndpoint", "gcp:pubsub/topic:Topic"]) {
            expect([type, base.ofType(type)]).toEqual([type, []]);
            expect([type, all.ofType(type)]).toEqual([type, [expect.anything()]]);
        }
        expect(base.ofType("gcp:artifactregistry/repository:Repository")).toHaveLength(1);
        expect(all.ofType("gcp:artifactregistry/repository:Repository")).toHaveLength(2);
        expect(base.ofType("gcp:serviceaccount/account:Account").map((r) => r.name)).toEqual(["gcp-identity-ws", "gcp-identity-training", "gcp-identity-ci-preview", "gcp-identity-ci-deploy"]);
        expect(all.ofType("gcp:serviceaccount/account:Account")).toHaveLength(5);
        expect(base.ofType("gcp:projects/service:Service").map((r) => r.inputs.service)).not.toContain("notebooks.googleapis.com");
        expect(all.ofType("gcp:projects/service:Service").map((r) => r.inputs.service)).toEqual(expect.arrayContaining(["notebooks.googleapis.com", "pubsub.googleapis.com"]));
    });

    test("without github there are no CI identities and no GitHub provider", async () => {
        const raw = withGcp();
        delete raw.gcp.github;
        const run = await runProgram(raw);
        expect(run.ofType("gcp:serviceaccount/account:Account").map((r) => r.name)).toEqual(["gcp-identity-ws", "gcp-identity-training"]);
        expect(run.ofType("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").map((r) => r.name)).toEqual(["gcp-wif-x509"]);
    });

    test("project services stay enabled on destroy", () => {
        for (const s of base.ofType("gcp:projects/service:Service")) {
            expect(s.inputs).toMatchObject({ project: "test-project-1", disableOnDestroy: false, disableDependentServices: false });
        }
    });

    test("every resource that takes labels has managed-by and stack", () => {
        const labelled = gcpResources(all).filter((r) => r.inputs.labels !== undefined);
        expect(labelled.length).toBeGreaterThanOrEqual(10);
        for (const r of labelled) expect([r.name, all.inputsOf(r.name).labels]).toEqual([r.name, expect.objectContaining({ "managed-by": "pulumi", stack: "test" })]);
        // The types that take labels, each present and labelled.
        const types = new Set(labelled.map((r) => r.type));
        for (const t of ["gcp:storage/bucket:Bucket", "gcp:artifactregistry/repository:Repository", "gcp:vertex/aiTensorboard:AiTensorboard", "gcp:vertex/aiEndpoint:AiEndpoint", "gcp:workbench/instance:Instance", "gcp:pubsub/topic:Topic", "gcp:secretmanager/secret:Secret"]) {
            expect([t, types.has(t)]).toEqual([t, true]);
        }
    });
});

describe("storage", () => {
    test("every bucket: uniform access, public access prevention, soft delete, never force-destroyed", () => {
        const buckets = base.ofType("gcp:storage/bucket:Bucket");
        expect(buckets.map((b) => b.inputs.name)).toEqual(["aihpc-test-datasets-test-project-1", "aihpc-test-artifacts-test-project-1", "aihpc-test-checkpoints-test-project-1"]);
        for (const b of buckets) {
            expect(base.inputsOf(b.name)).toMatchObject({
                uniformBucketLevelAccess: true,
                publicAccessPrevention: "enforced",
                softDeletePolicy: { retentionDurationSeconds: 7 * 86400 },
                forceDestroy: false,
                location: "EUROPE-WEST4",
            });
        }
    });

    test("data buckets are versioned and protected; checkpoints expire, keep old versions briefly, are not protected", () => {
        const ds = base.named("gcp-storage-datasets-bucket");
        expect(ds.options).toMatchObject({ protect: true, retainOnDelete: true });
        expect(base.inputsOf(ds.name).versioning).toEqual({ enabled: true });
        expect(base.inputsOf(ds.name).lifecycleRules).toEqual([
            { action: { type: "SetStorageClass", storageClass: "NEARLINE" }, condition: { age: 90, matchesStorageClasses: ["STANDARD"] } },
            { action: { type: "SetStorageClass", storageClass: "COLDLINE" }, condition: { age: 270, matchesStorageClasses: ["NEARLINE"] } },
            { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 30, withState: "ARCHIVED" } },
            { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 7 } },
        ]);
        const art = base.named("gcp-storage-artifacts-bucket");
        expect(art.options).toMatchObject({ protect: true, retainOnDelete: true });
        expect(base.inputsOf(art.name).lifecycleRules[0]).toEqual({ action: { type: "Delete" }, condition: { numNewerVersions: 5, withState: "ARCHIVED" } });
        const ck = base.named("gcp-storage-checkpoints-bucket");
        expect(ck.options).toMatchObject({ protect: false, retainOnDelete: false });
        expect(base.inputsOf(ck.name).versioning).toEqual({ enabled: true });
        expect(base.inputsOf(ck.name).lifecycleRules).toEqual([
            { action: { type: "Delete" }, condition: { age: 30 } },
            { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 3, withState: "ARCHIVED" } },
            { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 1 } },
        ]);
    });

    test("protection follows config", () => {
        expect(all.named("gcp-storage-datasets-bucket").options).toMatchObject({ protect: false, retainOnDelete: false });
    });

    test("bucket IAM: authoritative per role, stack identities only", () => {
        expect(base.inputsOf("gcp-storage-datasets-iam-storage-objectuser")).toMatchObject({ role: "roles/storage.objectUser", members: [SA("ws")] });
        expect(base.inputsOf("gcp-storage-datasets-iam-storage-objectviewer")).toMatchObject({ role: "roles/storage.objectViewer", members: [SA("training")] });
        expect(all.inputsOf("gcp-storage-datasets-iam-storage-objectviewer").members).toEqual([SA("training"), SA("workbench")]);
        // No workbench: no empty checkpoints viewer binding.
        expect(base.childrenOf("gcp-storage-checkpoints")).toEqual(["gcp-storage-checkpoints-bucket", "gcp-storage-checkpoints-iam-storage-objectuser"]);
    });
});

describe("artifact registry", () => {
    test("immutable tags, cleanup policies, scanning inherited (on)", () => {
        expect(base.inputsOf("gcp-registry-docker")).toMatchObject({
            format: "DOCKER",
            mode: "STANDARD_REPOSITORY",
            repositoryId: "aihpc-test-training",
            dockerConfig: { immutableTags: true },
            cleanupPolicyDryRun: false,
            cleanupPolicies: [
                { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: 10 } },
                { id: "delete-untagged", action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: `${14 * 86400}s` } },
            ],
            vulnerabilityScanningConfig: { enablementConfig: "INHERITED" },
        });
        expect(base.inputsOf("gcp-registry-docker-iam-artifactregistry-writer").members).toEqual([SA("ws")]);
        expect(base.ofType("gcp:projects/service:Service").map((r) => r.inputs.service)).toContain("containerscanning.googleapis.com");
    });

    test("the Docker Hub cache is a remote repository readable by the stack's identities", () => {
        expect(all.inputsOf("gcp-registry-dockerhub")).toMatchObject({
            mode: "REMOTE_REPOSITORY",
            remoteRepositoryConfig: { dockerRepository: { publicRepository: "DOCKER_HUB" } },
            vulnerabilityScanningConfig: { enablementConfig: "INHERITED" },
        });
        expect(all.inputsOf("gcp-registry-dockerhub-iam-artifactregistry-reader").members).toEqual([SA("ws"), SA("training"), SA("workbench")]);
    });
});

describe("identity", () => {
    const projectGrants = (run: Recorded) => run.ofType("gcp:projects/iAMMember:IAMMember").map((r) => run.inputsOf(r.name));

    test("no basic roles, no service-account keys, no personal or public members", () => {
        for (const run of [base, all]) {
            expect(run.ofType("gcp:serviceaccount/key:Key")).toEqual([]);
            const iam = run.resources.filter((r) => /IAM(Member|Binding)|Iam(Member|Binding)/.test(r.type)).map((r) => run.inputsOf(r.name));
            expect(iam.length).toBeGreaterThan(20);
            for (const g of iam) {
                expect(BASIC_ROLES).not.toContain(g.role);
                for (const m of g.members ?? [g.member]) expect(m).toMatch(/^(serviceAccount:|principal:\/\/|principalSet:\/\/)/);
            }
        }
    });

    test("project roles of each identity", () => {
        const rolesOf = (id: string) => projectGrants(all).filter((g) => g.member === SA(id)).map((g) => g.role);
        expect(rolesOf("ws")).toEqual(["roles/aiplatform.user", "roles/logging.logWriter", "roles/monitoring.metricWriter"]);
        expect(rolesOf("workbench")).toEqual(["roles/aiplatform.user", "roles/logging.logWriter", "roles/monitoring.metricWriter"]);
        // The preview identity is read-only.
        for (const r of rolesOf("ci-preview")) expect(r).toMatch(/(viewer|Viewer|reader|Reviewer|browser)$/);
        // No project-level actAs or token creation for anyone.
        for (const g of projectGrants(all)) expect(g.role).not.toMatch(/serviceAccount(User|TokenCreator)$/);
    });

    test("the deployer may grant only the stack's roles", () => {
        const g = projectGrants(base).find((x) => x.role === "roles/resourcemanager.projectIamAdmin")!;
        expect(g.member).toBe(SA("ci-deploy"));
        expect(g.condition.expression).toMatch(/^api\.getAttribute\('iam\.googleapis\.com\/modifiedGrantsByRole', \[\]\)\.hasOnly\(\[/);
        expect(g.condition.expression).toContain("'roles/aiplatform.user'");
        expect(g.condition.expression).not.toContain("projectIamAdmin");
        expect(g.condition.expression).not.toMatch(/roles\/(owner|editor|viewer)'/);
    });

    test("who may act as whom: workstation -> training, deployer -> workbench", () => {
        expect(base.inputsOf("gcp-identity-training-iam-iam-serviceaccountuser")).toMatchObject({ role: "roles/iam.serviceAccountUser", members: [SA("ws")] });
        expect(all.inputsOf("gcp-identity-workbench-iam-iam-serviceaccountuser")).toMatchObject({ role: "roles/iam.serviceAccountUser", members: [SA("ci-deploy")] });
    });
});

describe("workload identity", () => {
    test("the GitHub providers pin repository and owner by numeric id; only the deploy provider maps ref and environment", () => {
        expect(base.inputsOf("gcp-wif-github")).toMatchObject({
            workloadIdentityPoolId: "aihpc-test-pool",
            oidc: { issuerUri: "https://token.actions.githubusercontent.com" },
            attributeCondition: 'assertion.repository_id == "111" && assertion.repository_owner_id == "222"',
        });
        expect(Object.keys(base.inputsOf("gcp-wif-github").attributeMapping).sort()).toEqual(["attribute.repository", "attribute.repository_id", "attribute.repository_owner_id", "google.subject"]);
        expect(base.inputsOf("gcp-wif-github-deploy")).toMatchObject({
            workloadIdentityPoolProviderId: "github-deploy",
            oidc: { issuerUri: "https://token.actions.githubusercontent.com" },
            attributeCondition: 'assertion.repository_id == "111" && assertion.repository_owner_id == "222" && assertion.ref == "refs/heads/main" && assertion.environment == "production"',
            attributeMapping: { "attribute.environment": "assertion.environment", "attribute.ref": "assertion.ref" },
        });
    });

    test("preview: any ref of the repository; deploy: the deploy branch in the reviewed environment only", async () => {
        expect(base.inputsOf("gcp-wif-ci-preview-iam-iam-workloadidentityuser")).toMatchObject({
            role: "roles/iam.workloadIdentityUser",
            members: [`principalSet://iam.googleapis.com/${POOL}/attribute.repository_id/111`],
        });
        expect(base.inputsOf("gcp-wif-ci-deploy-iam-iam-workloadidentityuser").members).toEqual([`principalSet://iam.googleapis.com/${POOL}/attribute.environment/production`]);
        const raw = withGcp();
        raw.gcp.github = { ...raw.gcp.github, deployBranch: "release/1.x", deployEnvironment: "prod-eu" };
        const run = await runProgram(raw);
        expect(run.inputsOf("gcp-wif-github-deploy").attributeCondition).toMatch(/assertion\.ref == "refs\/heads\/release\/1\.x" && assertion\.environment == "prod-eu"$/);
        expect(run.inputsOf("gcp-wif-ci-deploy-iam-iam-workloadidentityuser").members).toEqual([`principalSet://iam.googleapis.com/${POOL}/attribute.environment/prod-eu`]);
        expect((run.outputs.gcp as any).workloadIdentity.githubDeployProvider).toBe(`${POOL}/providers/github-deploy`);
    });

    test("state bucket and KMS key: deploy reads, writes and decrypts; preview only reads the bucket", async () => {
        expect(base.ofType("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")).toEqual([]);
        const raw = withGcp();
        raw.gcp.github = { ...raw.gcp.github, stateBucket: "team-pulumi-state", stateKmsKey: "projects/test-project-1/locations/global/keyRings/pulumi/cryptoKeys/state" };
        const run = await runProgram(raw);
        const grants = [...run.ofType("gcp:storage/bucketIAMMember:BucketIAMMember"), ...run.ofType("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")]
            .filter((r) => r.inputs.bucket === "team-pulumi-state" || r.inputs.cryptoKeyId)
            .map((r) => [r.inputs.bucket ?? r.inputs.cryptoKeyId, r.inputs.role, r.inputs.member])
            .sort();
        expect(grants).toEqual([
            ["projects/test-project-1/locations/global/keyRings/pulumi/cryptoKeys/state", "roles/cloudkms.cryptoKeyEncrypterDecrypter", SA("ci-deploy")],
            ["team-pulumi-state", "roles/storage.objectUser", SA("ci-deploy")],
            ["team-pulumi-state", "roles/storage.objectViewer", SA("ci-preview")],
        ]);
        // Nothing anywhere gives the preview identity a KMS role or write access to objects.
        const preview = run.resources.filter((r) => r.custom && (r.inputs.member === SA("ci-preview") || ((r.inputs.members ?? []) as string[]).includes(SA("ci-preview"))));
        expect(preview.map((r) => String(r.inputs.role)).filter((role) => /cloudkms|objectUser|objectAdmin|objectCreator|storage\.admin/.test(role))).toEqual([]);
    });

    test("X.509: the stack's CA is the trust anchor, the certificate's subject acts as the workstation account", () => {
        expect(base.inputsOf("gcp-wif-ca")).toMatchObject({ isCaCertificate: true, allowedUses: expect.arrayContaining(["cert_signing"]) });
        expect(base.inputsOf("gcp-wif-ws-cert")).toMatchObject({ allowedUses: ["client_auth", "digital_signature"], validityPeriodHours: 365 * 24 });
        expect(base.inputsOf("gcp-wif-ws-csr").subject.commonName).toBe("aihpc-test-ws");
        expect(base.inputsOf("gcp-wif-x509")).toMatchObject({
            x509: { trustStore: { trustAnchors: [{ pemCertificate: expect.stringContaining("MOCK-CA") }] } },
            attributeMapping: { "google.subject": "assertion.subject.dn.cn" },
            attributeCondition: 'assertion.subject.dn.cn == "aihpc-test-ws"',
        });
        expect(base.inputsOf("gcp-wif-ws-iam-iam-workloadidentityuser")).toMatchObject({
            members: [`principal://iam.googleapis.com/${POOL}/subject/aihpc-test-ws`],
        });
        expect(base.named("gcp-wif-ws-iam-iam-workloadidentityuser").inputs.serviceAccountId).toBe(`projects/test-project-1/serviceAccounts/aihpc-test-ws@test-project-1.iam.gserviceaccount.com`);
    });

    test("the gcloud credential configuration is a stack output pointing at the certificate files", async () => {
        const out = base.outputs.gcp as any;
        const cred = JSON.parse(out.workstationGcloud.credentialConfig);
        expect(cred).toEqual({
            universe_domain: "googleapis.com",
            type: "external_account",
            audience: `//iam.googleapis.com/${POOL}/providers/workstation-x509`,
            subject_token_type: "urn:ietf:params:oauth:token-type:mtls",
            token_url: "https://sts.mtls.googleapis.com/v1/token",
            credential_source: { certificate: { certificate_config_location: "/etc/aihpc/gcp/certificate_config.json" } },
            service_account_impersonation_url: "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/aihpc-test-ws@test-project-1.iam.gserviceaccount.com:generateAccessToken",
        });
        expect(JSON.parse(out.workstationGcloud.certificateConfig)).toEqual({ cert_configs: { workload: { cert_path: "/etc/aihpc/gcp/client.crt", key_path: "/etc/aihpc/gcp/client.key" } } });
        expect(JSON.stringify(out)).not.toContain("PRIVATE KEY");
        expect(out.buckets).toEqual({
            datasets: "gs://aihpc-test-datasets-test-project-1",
            artifacts: "gs://aihpc-test-artifacts-test-project-1",
            checkpoints: "gs://aihpc-test-checkpoints-test-project-1",
        });
        expect(out.registry.images).toBe("europe-west4-docker.pkg.dev/test-project-1/aihpc-test-training");
        expect(out.serviceAccounts.workstation).toBe("aihpc-test-ws@test-project-1.iam.gserviceaccount.com");
    });

    test("turned off: no CA, no X.509 provider, no credential output", async () => {
        const raw = withGcp();
        raw.gcp.workstationIdentity = { enabled: false };
        const run = await runProgram(raw);
        expect(run.resources.filter((r) => r.type.startsWith("tls:"))).toEqual([]);
        expect(run.ofType("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").map((r) => r.name)).toEqual(["gcp-wif-github", "gcp-wif-github-deploy"]);
        expect((run.outputs.gcp as any).workstationGcloud).toBeUndefined();
    });
});

describe("vertex and workbench", () => {
    test("tensorboard, metadata store, endpoint", () => {
        expect(base.inputsOf("gcp-vertex-tensorboard")).toMatchObject({ region: "europe-west4", displayName: "aihpc-test-tensorboard" });
        expect(base.inputsOf("gcp-vertex-metadata").name).toBe("aihpc_test_metadata");
        expect(all.inputsOf("gcp-vertex-endpoint")).toMatchObject({ location: "europe-west4", name: expect.stringMatching(/^[1-9]\d{9}$/) });
    });

    test("Workbench: no public IP, shielded, dedicated account, idle shutdown, GPU, deletion protection", () => {
        const wb = all.inputsOf("gcp-workbench-instance");
        expect(wb).toMatchObject({ location: "europe-west4-a", name: "aihpc-test-workbench", enableDeletionProtection: true });
        expect(wb.gceSetup).toMatchObject({
            machineType: "n1-standard-8",
            acceleratorConfigs: [{ type: "NVIDIA_TESLA_T4", coreCount: "1" }],
            disablePublicIp: true,
            enableIpForwarding: false,
            shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
            serviceAccounts: [{ email: "aihpc-test-workbench@test-project-1.iam.gserviceaccount.com" }],
            networkInterfaces: [{ network: "gcp-network-vpc-id", subnet: "gcp-network-subnet-id" }],
        });
        expect(wb.gceSetup.metadata).toEqual({
            "idle-timeout-seconds": "1800",
            "notebook-disable-root": "true",
            "notebook-disable-downloads": "true",
            "notebook-disable-terminal": "false",
            "report-event-health": "true",
            "install-nvidia-driver": "true",
        });
        expect(all.named("gcp-workbench-instance").options.ignoreChanges).toEqual(SERVER_METADATA_KEYS.map((k) => `gceSetup.metadata["${k}"]`));
        expect(SERVER_METADATA_KEYS).toEqual(expect.arrayContaining(["resource-url", "proxy-mode", "version-description", "new-proxy-agent-enabled"]));
    });

    test("network: private Google access, NAT, SSH only from IAP, everything else denied", () => {
        expect(base.inputsOf("gcp-network-vpc")).toMatchObject({ autoCreateSubnetworks: false });
        expect(base.inputsOf("gcp-network-subnet")).toMatchObject({ privateIpGoogleAccess: true, ipCidrRange: "10.20.0.0/24", region: "europe-west4" });
        expect(base.inputsOf("gcp-network-nat")).toMatchObject({ natIpAllocateOption: "AUTO_ONLY", sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS" });
        expect(base.inputsOf("gcp-network-allow-iap-ssh")).toMatchObject({ sourceRanges: ["35.235.240.0/20"], allows: [{ protocol: "tcp", ports: ["22"] }], targetTags: ["iap-ssh"] });
        expect(base.inputsOf("gcp-network-deny-ingress")).toMatchObject({ sourceRanges: ["0.0.0.0/0"], denies: [{ protocol: "all" }], priority: 65534 });
        const ingress = base.ofType("gcp:compute/firewall:Firewall").filter((f) => f.inputs.allows);
        expect(ingress.map((f) => f.name)).toEqual(["gcp-network-allow-iap-ssh"]);
    });
});

describe("budget and secrets", () => {
    test("threshold rules on the project, sorted, plus a forecast rule; Pub/Sub only when asked", () => {
        const b = all.inputsOf("gcp-budget-budget");
        expect(b).toMatchObject({
            billingAccount: "012345-6789AB-CDEF01",
            budgetFilter: { projects: ["projects/123456789012"] },
            amount: { specifiedAmount: { currencyCode: "USD", units: "250", nanos: 500000000 } },
            thresholdRules: [
                { thresholdPercent: 0.5, spendBasis: "CURRENT_SPEND" },
                { thresholdPercent: 0.9, spendBasis: "CURRENT_SPEND" },
                { thresholdPercent: 1, spendBasis: "FORECASTED_SPEND" },
            ],
            allUpdatesRule: { pubsubTopic: "gcp-budget-topic-id", schemaVersion: "1.0" },
        });
        expect(base.inputsOf("gcp-budget-budget").allUpdatesRule).toBeUndefined();
        expect(all.inputsOf("gcp-budget-topic-iam-pubsub-publisher").members).toEqual(["serviceAccount:billing-budget-alert@system.gserviceaccount.com"]);
    });

    test("secrets: accessors from config, values out of band; the workstation key kept with no reader", () => {
        expect(all.inputsOf("gcp-secrets-hf-token")).toMatchObject({ secretId: "aihpc-test-hf-token", replication: { auto: {} } });
        expect(all.inputsOf("gcp-secrets-hf-token-iam-secretmanager-secretaccessor").members).toEqual([SA("ws"), SA("training")]);
        expect(all.childrenOf("gcp-secrets").filter((n) => n.startsWith("gcp-secrets-wandb-key"))).toEqual(["gcp-secrets-wandb-key"]);
        const v = all.named("gcp-secrets-ws-x509-key-v");
        expect(JSON.stringify(v.inputs.secretData)).toContain("4dabf18193072939515e22adb298388d"); // the secret signature
        expect(all.childrenOf("gcp-secrets").filter((n) => n.startsWith("gcp-secrets-ws-x509-key"))).toEqual(["gcp-secrets-ws-x509-key", "gcp-secrets-ws-x509-key-v"]);
    });
});
