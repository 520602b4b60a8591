// The hybrid bridge under mocks: the cross-wiring between the workstation and
// the Google Cloud side (what each workstation command references, the order
// of creation and teardown, secrets only on stdin), the training image's
// inputs, and the `summary` output.
import { contextTag, TRAINING_CONTEXT } from "../../../components/hybrid";
import { HOST_KEY_1, TEST_BASE_IMAGE, TEST_GOOGLE_KEY, twoHosts, withGcp, hybridPins } from "../../helpers/fixtures";
import { containsSecret, PlannedResource, problemAt, Recorded, runProgram } from "../../helpers/harness";
import { stepReceived, stepText } from "../../helpers/steps";

const PROJECT = "test-project-1";
const WS_SA = `aihpc-test-ws@${PROJECT}.iam.gserviceaccount.com`;
const TRAINING_SA = `aihpc-test-training@${PROJECT}.iam.gserviceaccount.com`;
const REPO = `europe-west4-docker.pkg.dev/${PROJECT}/aihpc-test-training`;
const X509_PROVIDER = "projects/123456789012/locations/global/workloadIdentityPools/aihpc-test-pool/providers/workstation-x509";
const MOCK_KEY = "-----BEGIN PRIVATE KEY-----\nMOCK\n-----END PRIVATE KEY-----\n";
const COMMAND_FIELDS = ["create", "update", "delete"] as const;

/** A variable as the step's script sees it: a setting of its command, or a file from its stdin payload or the bundle. */
function envOf(inputs: Record<string, any>, name: string): string | undefined {
    return stepReceived(inputs).vars[name];
}

/** Every URN a resource waits for, directly or through what it waits for (and their parents' children). */
function transitiveDeps(run: Recorded, r: PlannedResource): Set<string> {
    const byUrn = new Map(run.resources.map((x) => [x.urn, x]));
    const seen = new Set<string>();
    const stack = [...r.dependencies];
    while (stack.length) {
        const u = stack.pop()!;
        if (seen.has(u)) continue;
        seen.add(u);
        stack.push(...(byUrn.get(u)?.dependencies ?? []));
    }
    return seen;
}

const hybridCommands = (run: Recorded) => run.resources.filter((r) => r.type === "command:remote:Command" && r.name.startsWith("hybrid-"));

let run: Recorded;
beforeAll(async () => {
    run = await runProgram(withGcp());
});

describe("the bridge exists only in the gcp stack", () => {
    test("components and steps per host", () => {
        expect(run.ofType("aihpc:hybrid:Bridge").map((r) => r.name)).toEqual(["hybrid"]);
        expect(hybridCommands(run).map((r) => r.name).sort()).toEqual(
            ["hybrid-burst-ws1", "hybrid-data-ws1-env", "hybrid-data-ws1-sync", "hybrid-identity-ws1-credentials", "hybrid-identity-ws1-docker-auth", "hybrid-identity-ws1-gcloud"].sort(),
        );
        expect(run.ofType("docker:index/image:Image").map((r) => r.name)).toEqual(["hybrid-image-push"]);
    });

    test("without gcp: no bridge, and a summary without the cloud", async () => {
        const { gcp: _gcp, ...local } = withGcp();
        const r = await runProgram(local);
        expect(r.resources.filter((x) => x.type.startsWith("aihpc:hybrid:") || x.type.startsWith("docker:"))).toEqual([]);
        const summary = r.outputs.summary as any;
        expect(summary.cloud).toBeUndefined();
        expect(summary.hosts.ws1).toEqual({ address: "10.0.0.11", roles: ["controller", "compute"], gpus: 1 });
    });

    test("gcp.hybrid.enabled false: the cloud side without the bridge", async () => {
        const raw = withGcp();
        raw.gcp.hybrid = hybridPins({ enabled: false });
        const r = await runProgram(raw);
        expect(r.resources.filter((x) => x.type.startsWith("aihpc:hybrid:"))).toEqual([]);
        expect(r.ofType("gcp:storage/bucket:Bucket")).toHaveLength(3);
    });
});

describe("keyless identity on the workstation", () => {
    test("the key travels on stdin only, as a secret; no command string holds a secret", () => {
        const cred = run.named("hybrid-identity-ws1-credentials");
        expect(containsSecret(cred.inputs.stdin)).toBe(true);
        expect(stepReceived(run.inputsOf("hybrid-identity-ws1-credentials")).stdin).toBe(MOCK_KEY);
        for (const r of hybridCommands(run)) {
            for (const f of COMMAND_FIELDS) {
                expect([r.name, f, containsSecret(r.inputs[f])]).toEqual([r.name, f, false]);
                expect(String(run.inputsOf(r.name)[f] ?? "")).not.toContain("PRIVATE KEY-----\nMOCK");
            }
        }
    });

    test("the credential configuration maps the X.509 identity to the workstation's service account", () => {
        const cmd = run.inputsOf("hybrid-identity-ws1-credentials");
        const cfg = JSON.parse(envOf(cmd, "CREDENTIAL_CONFIG")!);
        expect(cfg).toMatchObject({
            type: "external_account",
            audience: `//iam.googleapis.com/${X509_PROVIDER}`,
            subject_token_type: "urn:ietf:params:oauth:token-type:mtls",
            service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${WS_SA}:generateAccessToken`,
            credential_source: { certificate: { certificate_config_location: "/etc/aihpc/gcp/certificate_config.json" } },
        });
        expect(envOf(cmd, "CERT_PEM")).toContain("BEGIN CERTIFICATE");
        expect(envOf(cmd, "CERT_DIR")).toBe("/etc/aihpc/gcp");
        // The environment files, rendered in hybrid/identity/files.ts, name the project and the root credentials.
        expect(envOf(cmd, "SYSTEM_CONF")).toContain(`DefaultEnvironment=GOOGLE_APPLICATION_CREDENTIALS=/etc/aihpc/gcp/credentials.json CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE=/etc/aihpc/gcp/credentials.json GOOGLE_CLOUD_PROJECT=${PROJECT} `);
        expect(envOf(cmd, "PROFILE")).toContain(`\nGOOGLE_CLOUD_PROJECT=${PROJECT}\n`);
        // The certificate's CN is the one principal allowed to act as the workstation account.
        const subject = run.inputsOf("gcp-wif-ws-csr").subject.commonName;
        const binding = run.resources.find((r) => r.type === "gcp:serviceaccount/iAMBinding:IAMBinding" && r.name.startsWith("gcp-wif-ws-"))!;
        const b = run.inputsOf(binding.name);
        expect(b.role).toBe("roles/iam.workloadIdentityUser");
        expect(b.serviceAccountId).toContain(WS_SA);
        expect(b.members).toEqual([`principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/aihpc-test-pool/subject/${subject}`]);
        expect(run.inputsOf("gcp-wif-x509").attributeCondition).toBe(`assertion.subject.dn.cn == "${subject}"`);
    });

    test("research users get credential configurations of their own, acting as themselves; the delete needs no secret", async () => {
        const raw = withGcp();
        raw.workstation.base = { users: [{ name: "alice" }, { name: "bob" }] };
        const r = await runProgram(raw);
        const i = r.inputsOf("hybrid-identity-ws1-credentials");
        expect(envOf(i, "USERS")).toBe("alice bob");
        expect(envOf(r.inputsOf("hybrid-identity-ws1-docker-auth"), "USERS")).toBe("alice bob");
        const userConfig = JSON.parse(envOf(i, "USER_CREDENTIAL_CONFIG")!);
        expect(userConfig.audience).toBe(`//iam.googleapis.com/${X509_PROVIDER}`);
        expect(userConfig).not.toHaveProperty("service_account_impersonation_url");
        // The service identity still impersonates the workstation's account.
        expect(JSON.parse(envOf(i, "CREDENTIAL_CONFIG")!).service_account_impersonation_url).toContain(WS_SA);
        expect(i.delete).toContain("CERT_DIR='/etc/aihpc/gcp'");
        expect(i.delete).not.toContain("CREDENTIAL_CONFIG=");
        expect(stepReceived(i, "delete").vars.CERT_DIR).toBe("/etc/aihpc/gcp");
    });

    test("Google Cloud CLI pinned from the configured mirror; gcsfuse only with data mode gcsfuse", async () => {
        const cmd = run.inputsOf("hybrid-identity-ws1-gcloud");
        expect(envOf(cmd, "REPO")).toBe("https://packages.cloud.google.com/apt");
        expect(envOf(cmd, "PACKAGES")).toBe("google-cloud-cli=520.0.0-0");
        // The repository's key is checked against the pinned fingerprint set (lib.sh aihpc_apt_repo).
        expect(envOf(cmd, "FINGERPRINTS")).toBe(TEST_GOOGLE_KEY);
        expect(envOf(cmd, "KEY_PATH")).toBe("doc/apt-key.gpg");
        const raw = withGcp();
        raw.gcp.hybrid = hybridPins({ gcloudCli: { aptRepository: "https://mirror.example/google-apt/", version: "530.0.0" }, data: { mode: "gcsfuse" } });
        const r = await runProgram(raw);
        const c2 = r.inputsOf("hybrid-identity-ws1-gcloud");
        expect(envOf(c2, "REPO")).toBe("https://mirror.example/google-apt");
        expect(envOf(c2, "PACKAGES")).toBe("google-cloud-cli=530.0.0-0 gcsfuse=2.11.1");
        raw.gcp.hybrid = hybridPins({ gcloudCli: { install: false } });
        expect((await runProgram(raw)).resources.filter((x) => x.name === "hybrid-identity-ws1-gcloud")).toEqual([]);
    });

    test("Docker authenticates to the stack's registry host through gcloud's helper", () => {
        expect(envOf(run.inputsOf("hybrid-identity-ws1-docker-auth"), "REGISTRIES")).toBe("europe-west4-docker.pkg.dev");
        expect(stepText(run.inputsOf("hybrid-identity-ws1-docker-auth"))).toContain('.credHelpers[$h] = "gcloud"');
    });
});

describe("order and teardown", () => {
    test("every workstation access step waits for the cloud identities (so it is deleted before them)", () => {
        const must = ["gcp-identity-ws", "gcp-identity-training", "gcp-wif-x509", "gcp-wif-pool"].map((n) => run.named(n).urn);
        const wsBinding = run.resources.find((r) => r.type === "gcp:serviceaccount/iAMBinding:IAMBinding" && r.name.startsWith("gcp-wif-ws-"))!.urn;
        for (const r of hybridCommands(run)) {
            const deps = transitiveDeps(run, r);
            for (const u of [...must, wsBinding]) expect([r.name, u, deps.has(u)]).toEqual([r.name, u, true]);
        }
        // And after the host's base system (users exist, jq is installed).
        const cred = transitiveDeps(run, run.named("hybrid-identity-ws1-credentials"));
        expect(cred.has(run.named("ws-ws1-base-users").urn)).toBe(true);
    });

    test("steps on a host run in order: credentials -> docker auth, env -> sync and burst", () => {
        const deps = (n: string) => transitiveDeps(run, run.named(n));
        expect(deps("hybrid-identity-ws1-docker-auth").has(run.named("hybrid-identity-ws1-credentials").urn)).toBe(true);
        expect(deps("hybrid-data-ws1-sync").has(run.named("hybrid-data-ws1-env").urn)).toBe(true);
        expect(deps("hybrid-data-ws1-sync").has(run.named("hybrid-identity-ws1-gcloud").urn)).toBe(true);
        expect(deps("hybrid-burst-ws1").has(run.named("hybrid-data-ws1-env").urn)).toBe(true);
    });

    test("nothing of the workstation waits for the cloud side or the bridge (removing them leaves local jobs running)", () => {
        const cloud = new Set(run.resources.filter((r) => /^(gcp|hybrid)(-|$)/.test(r.name)).map((r) => r.urn));
        for (const r of run.resources.filter((x) => x.name.startsWith("ws-"))) {
            const bad = [...transitiveDeps(run, r)].filter((u) => cloud.has(u));
            expect([r.name, bad]).toEqual([r.name, []]);
        }
    });

    test("every step has a delete command", () => {
        for (const r of hybridCommands(run)) expect([r.name, typeof run.inputsOf(r.name).delete]).toEqual([r.name, "string"]);
    });
});

describe("the workstation's view of the cloud side (/etc/aihpc/hybrid.env)", () => {
    test("repository, image digest, buckets, service account, Tensorboard", () => {
        const text = envOf(run.inputsOf("hybrid-data-ws1-env"), "ENV_FILE")!;
        const env = Object.fromEntries(text.split("\n").filter((l) => !l.startsWith("#")).map((l) => l.split(/=(.*)/s).slice(0, 2)));
        const digest = run.named("hybrid-image-push").state.repoDigest;
        expect(env).toMatchObject({
            AIHPC_PROJECT: PROJECT,
            AIHPC_REGION: "europe-west4",
            AIHPC_REGISTRY: REPO,
            AIHPC_IMAGE: digest,
            AIHPC_DATASETS_BUCKET: `gs://aihpc-test-datasets-${PROJECT}`,
            AIHPC_CHECKPOINTS_BUCKET: `gs://aihpc-test-checkpoints-${PROJECT}`,
            AIHPC_ARTIFACTS_BUCKET: `gs://aihpc-test-artifacts-${PROJECT}`,
            AIHPC_TRAINING_SA: TRAINING_SA,
            AIHPC_TENSORBOARD: "projects/123456789012/locations/europe-west4/tensorboards/gcp-vertex-tensorboard",
            AIHPC_EXPERIMENT: "aihpc",
            AIHPC_MACHINE_TYPE: "g2-standard-8",
            AIHPC_ACCELERATOR_TYPE: "NVIDIA_L4",
            AIHPC_ACCELERATOR_COUNT: "1",
            AIHPC_DATA_MODE: "rsync",
            AIHPC_DATASETS_DIR: "/srv/aihpc/datasets",
            AIHPC_CHECKPOINTS_DIR: "/srv/aihpc/checkpoints",
        });
        expect(digest).toMatch(new RegExp(`^${REPO}/training@sha256:[0-9a-f]{64}$`));
    });

    test("data sync: rsync by default, research group, the root credentials for the units", () => {
        const cmd = run.inputsOf("hybrid-data-ws1-sync");
        expect(envOf(cmd, "MODE")).toBe("rsync");
        expect(envOf(cmd, "GROUP")).toBe("research");
        expect(envOf(cmd, "CREDENTIALS_ENV")).toBe("Environment=GOOGLE_APPLICATION_CREDENTIALS=/etc/aihpc/gcp/credentials.json CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE=/etc/aihpc/gcp/credentials.json");
        // The units, rendered in hybrid/data/files.ts.
        expect(envOf(cmd, "TIMER_UNIT")).toContain("\nOnUnitActiveSec=15min\n");
        expect(envOf(cmd, "SERVICE_UNIT")).toContain("\nEnvironmentFile=/etc/aihpc/hybrid.env\nEnvironment=GOOGLE_APPLICATION_CREDENTIALS=/etc/aihpc/gcp/credentials.json ");
    });

    test("data mode off: no sync step; image off: no image and no AIHPC_IMAGE", async () => {
        const raw = withGcp();
        raw.gcp.hybrid = hybridPins({ data: { mode: "off" }, image: { enabled: false } });
        const r = await runProgram(raw);
        expect(r.resources.filter((x) => x.name === "hybrid-data-ws1-sync" || x.type.startsWith("docker:"))).toEqual([]);
        expect(envOf(r.inputsOf("hybrid-data-ws1-env"), "ENV_FILE")).not.toContain("AIHPC_IMAGE=");
    });
});

describe("the training image", () => {
    test("built on the workstation over SSH with its pinned host key, pushed to the stack's repository by content tag", () => {
        const img = run.inputsOf("hybrid-image-push");
        const tag = contextTag(TRAINING_CONTEXT, { BASE_IMAGE: TEST_BASE_IMAGE, platform: "linux/amd64" });
        expect(img.imageName).toBe(`${REPO}/training:${tag}`);
        expect(img.build).toMatchObject({
            context: "components/hybrid/images/training",
            dockerfile: "components/hybrid/images/training/Dockerfile",
            // The base by digest, as configured (gcp.hybrid.image.baseImage).
            args: { BASE_IMAGE: TEST_BASE_IMAGE },
            platform: "linux/amd64",
        });
        expect(img.registry).toMatchObject({ server: "europe-west4-docker.pkg.dev", username: "oauth2accesstoken" });
        expect(containsSecret(run.named("hybrid-image-push").inputs.registry)).toBe(true);
        const provider = run.named("hybrid-image-push").provider!;
        expect(provider).toContain("hybrid-image-docker");
        const p = run.inputsOf("hybrid-image-docker");
        expect(p.host).toBe("ssh://root@10.0.0.11:22");
        const opts = JSON.parse(p.sshOpts);
        expect(opts).toEqual(expect.arrayContaining(["StrictHostKeyChecking=yes", `KnownHostsCommand=/bin/echo 10.0.0.11 ${HOST_KEY_1}`]));
        // After the repository (and its grants) and the workstation (Docker) exist.
        const deps = transitiveDeps(run, run.named("hybrid-image-push"));
        expect(deps.has(run.named("gcp-registry-docker").urn)).toBe(true);
        expect(deps.has(run.named("ws-ws1-base-packages").urn)).toBe(true);
    });

    test("the tag follows the build context and settings only", async () => {
        const again = await runProgram(withGcp());
        expect(again.inputsOf("hybrid-image-push").imageName).toBe(run.inputsOf("hybrid-image-push").imageName);
        const raw = withGcp();
        raw.gcp.budget.amount = 999;
        raw.gcp.hybrid = hybridPins({ burst: { experiment: "other" } });
        expect((await runProgram(raw)).inputsOf("hybrid-image-push").imageName).toBe(run.inputsOf("hybrid-image-push").imageName);
        const cuda = withGcp();
        cuda.workstation.nvidia = { cuda: { versions: ["12.6"] } };
        cuda.workstation.mlRuntime = { enabled: false };
        const base126 = `pytorch/pytorch:2.7.1-cuda12.6-cudnn9-runtime@sha256:${"a".repeat(64)}`;
        cuda.gcp.hybrid = hybridPins({ image: { baseImage: base126 } });
        const r = await runProgram(cuda);
        expect(r.inputsOf("hybrid-image-push").build.args.BASE_IMAGE).toBe(base126);
        expect(r.inputsOf("hybrid-image-push").imageName).not.toBe(run.inputsOf("hybrid-image-push").imageName);
    });

    test("two hosts: every host is bridged, the controller builds (or buildHost)", async () => {
        const raw = withGcp(twoHosts());
        let r = await runProgram(raw);
        expect(hybridCommands(r).filter((x) => x.name.includes("-ws2"))).toHaveLength(6);
        expect(r.inputsOf("hybrid-image-docker").host).toBe("ssh://root@10.0.0.11:22");
        raw.gcp.hybrid = hybridPins({ buildHost: "ws2" });
        r = await runProgram(raw);
        expect(r.inputsOf("hybrid-image-docker").host).toBe("ssh://root@10.0.0.12:22");
    });
});

describe("the summary output", () => {
    test("hosts, Slurm partitions, monitoring URLs, image, buckets, Tensorboard, burst command", () => {
        const s = run.outputs.summary as any;
        const digest = run.named("hybrid-image-push").state.repoDigest;
        expect(s.slurm.partitions).toEqual([{ name: "gpu", hosts: ["ws1"], default: true, maxTime: "UNLIMITED" }]);
        expect(s.monitoring).toEqual({ prometheus: "http://10.0.0.11:9090", grafana: "http://10.0.0.11:3000", alertmanager: "http://10.0.0.11:9093" });
        expect(s.cloud.image).toEqual({ uri: run.inputsOf("hybrid-image-push").imageName, digest });
        expect(s.cloud.buckets.datasets).toBe(`gs://aihpc-test-datasets-${PROJECT}`);
        expect(s.cloud.tensorboard).toMatch(/tensorboards\//);
        expect(s.cloud.burst).toMatchObject({ vertex: "aihpc-burst -- --steps 1000", dryRun: "aihpc-burst --dry-run -- --steps 1000", serviceAccount: TRAINING_SA });
        expect(s.cloud.burst.local).toBe("sbatch /usr/local/share/aihpc/hybrid/train.sbatch --steps 1000");
    });
});

describe("research users: an identity of their own (issue 18)", () => {
    const POOL = "projects/123456789012/locations/global/workloadIdentityPools/aihpc-test-pool";
    const LAB = `principalSet://iam.googleapis.com/${POOL}/attribute.lab/researchers`;
    let users: Recorded;
    beforeAll(async () => {
        const raw = withGcp(twoHosts());
        raw.workstation.base = { users: [{ name: "alice" }, { name: "bob" }] };
        raw.gcp.workstationIdentity = { userRoles: { alice: ["roles/bigquery.user"] } };
        users = await runProgram(raw);
    });

    test("each host makes its users' keys and certificates with a CA of its own; no key or CA travels", () => {
        for (const h of ["ws1", "ws2"]) {
            const step = users.inputsOf(`hybrid-user-certs-${h}`);
            expect(envOf(step, "USERS")).toBe("alice bob");
            expect(envOf(step, "SUBJECT_PREFIX")).toBe("aihpc-test-u-");
            expect(envOf(step, "CA_NAME")).toBe(`aihpc-test ${h} user CA`);
            expect(step.stdin).toBeUndefined();
            // The connection holds the stack's own SSH key (aihpc:sshPrivateKey), nothing of the users'.
            expect(JSON.stringify({ ...step, connection: undefined })).not.toContain("PRIVATE KEY");
        }
        // The provider trusts the stack's CA (service identity) and each host's user CA, read back from the host.
        const anchors = users.inputsOf("gcp-wif-x509").x509.trustStore.trustAnchors.map((a: any) => a.pemCertificate);
        expect(anchors).toHaveLength(3);
        expect(anchors[0]).toContain("MOCK-CA");
        expect(anchors.slice(1).map((p: string) => Buffer.from(/MOCKUSERCA(\S+)/.exec(p)![1], "base64").toString())).toEqual(["hybrid-user-certs-ws1", "hybrid-user-certs-ws2"]);
        const provider = transitiveDeps(users, users.named("gcp-wif-x509"));
        for (const h of ["ws1", "ws2"]) {
            expect(provider.has(users.named(`hybrid-user-certs-${h}`).urn)).toBe(true);
            // Certificates after the users exist; credential configurations after both the certificates and the provider.
            const certs = transitiveDeps(users, users.named(`hybrid-user-certs-${h}`));
            expect([certs.has(users.named(`ws-${h}-base-users`).urn), certs.has(users.named(`ws-${h}-base-packages`).urn)]).toEqual([true, true]);
            const cred = transitiveDeps(users, users.named(`hybrid-identity-${h}-credentials`));
            expect(cred.has(users.named(`hybrid-user-certs-${h}`).urn) && cred.has(users.named("gcp-wif-x509").urn)).toBe(true);
        }
    });

    test("two users, two principals; the pool admits exactly the service and the listed users", () => {
        const out = (users.outputs.gcp as any).workstationGcloud;
        expect(out.users).toEqual({
            alice: { subject: "aihpc-test-u-alice", principal: `principal://iam.googleapis.com/${POOL}/subject/aihpc-test-u-alice` },
            bob: { subject: "aihpc-test-u-bob", principal: `principal://iam.googleapis.com/${POOL}/subject/aihpc-test-u-bob` },
        });
        expect(out.users.alice.principal).not.toBe(out.users.bob.principal);
        const p = users.inputsOf("gcp-wif-x509");
        expect(p.attributeCondition).toBe('assertion.subject.dn.cn in ["aihpc-test-ws", "aihpc-test-u-alice", "aihpc-test-u-bob"]');
        expect(p.attributeMapping).toEqual({
            "google.subject": "assertion.subject.dn.cn",
            "attribute.lab": 'assertion.subject.dn.cn.startsWith("aihpc-test-u-") ? "researchers" : "services"',
        });
    });

    test("the lab's principal set has the workstation's data, registry and Vertex access; per-user roles go to that user", () => {
        expect(users.inputsOf("gcp-storage-datasets-iam-storage-objectuser").members).toEqual([`serviceAccount:${WS_SA}`, LAB]);
        expect(users.inputsOf("gcp-storage-checkpoints-iam-storage-objectuser").members).toContain(LAB);
        expect(users.inputsOf("gcp-registry-docker-iam-artifactregistry-writer").members).toContain(LAB);
        expect(users.inputsOf("gcp-identity-training-iam-iam-serviceaccountuser").members).toEqual([`serviceAccount:${WS_SA}`, LAB]);
        expect(users.inputsOf("gcp-lab-iam-aiplatform-user")).toMatchObject({ role: "roles/aiplatform.user", member: LAB });
        expect(users.inputsOf("gcp-wif-user-iam-alice-bigquery-user")).toMatchObject({ role: "roles/bigquery.user", member: `principal://iam.googleapis.com/${POOL}/subject/aihpc-test-u-alice` });
        // Never the workstation account itself: users cannot impersonate it.
        expect(users.inputsOf("gcp-wif-ws-iam-iam-workloadidentityuser").members).toEqual([`principal://iam.googleapis.com/${POOL}/subject/aihpc-test-ws`]);
    });

    test("a removed user's certificate is no longer trusted by the pool, and their grants go", async () => {
        const raw = withGcp(twoHosts());
        raw.workstation.base = { users: [{ name: "bob" }] };
        const r = await runProgram(raw);
        expect(r.inputsOf("gcp-wif-x509").attributeCondition).toBe('assertion.subject.dn.cn in ["aihpc-test-ws", "aihpc-test-u-bob"]');
        expect(JSON.stringify(r.resources.map((x) => x.inputs))).not.toContain("aihpc-test-u-alice");
        expect(envOf(r.inputsOf("hybrid-user-certs-ws1"), "USERS")).toBe("bob");
    });

    test("userRoles must name research users and predefined roles", () => {
        const raw = withGcp();
        raw.workstation.base = { users: [{ name: "alice" }] };
        raw.gcp.workstationIdentity = { userRoles: { carol: ["roles/bigquery.user"] } };
        expect(problemAt(raw, undefined, "aihpc:gcp.workstationIdentity.userRoles.carol").message).toMatch(/'carol' is not a research user: expected one of workstation.base.users \(alice\)/);
        raw.gcp.workstationIdentity = { userRoles: { alice: ["roles/editor"] } };
        expect(problemAt(raw, undefined, "aihpc:gcp.workstationIdentity.userRoles.alice[0]").message).toMatch(/basic role/);
    });
});
