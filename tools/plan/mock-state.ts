// What a provider would compute on create, for the types this stack uses, so
// that outputs other resources consume (a service account's email, a bucket's
// URL) resolve to realistic values in the plan and in tests.
import { createHash } from "crypto";

type Inputs = Record<string, any>;
interface Ctx {
    project: string;
    stack: string;
}

const PROJECT_NUMBER = "123456789012";

function userCaStdout(name: string): Inputs {
    if (!name.startsWith("hybrid-user-certs-")) return {};
    const body = `MOCKUSERCA${Buffer.from(name).toString("base64")}`;
    return { stdout: `aihpc: unchanged\nAIHPC-USER-CA-BEGIN\n-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\nAIHPC-USER-CA-END` };
}

/** The controller's tunnel key step prints its WireGuard public key (components/hybrid/cloud-nodes/tunnel.ts). */
function wgKeyStdout(name: string): Inputs {
    if (!name.startsWith("hybrid-tunnel-key-")) return {};
    return { stdout: `aihpc: changed\nAIHPC-WG-PUBLIC-KEY ${createHash("sha256").update(name).digest("base64")}` };
}

const commandStdout = (name: string): Inputs => ({ ...userCaStdout(name), ...wgKeyStdout(name) });

const computed: Record<string, (name: string, i: Inputs, ctx: Ctx) => Inputs> = {
    "gcp:serviceaccount/account:Account": (name, i) => ({
        email: `${i.accountId ?? name}@${i.project ?? "project"}.iam.gserviceaccount.com`,
        member: `serviceAccount:${i.accountId ?? name}@${i.project ?? "project"}.iam.gserviceaccount.com`,
        name: `projects/${i.project ?? "project"}/serviceAccounts/${i.accountId ?? name}@${i.project ?? "project"}.iam.gserviceaccount.com`,
        uniqueId: "100000000000000000001",
    }),
    "gcp:storage/bucket:Bucket": (name, i) => ({
        url: `gs://${i.name ?? name}`,
        selfLink: `https://www.googleapis.com/storage/v1/b/${i.name ?? name}`,
    }),
    "gcp:artifactregistry/repository:Repository": (name, i) => ({
        name: i.repositoryId ?? name,
        registryUri: `${i.location ?? "region"}-docker.pkg.dev/${i.project ?? "project"}/${i.repositoryId ?? name}`,
    }),
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": (name, i) => ({
        name: `projects/${PROJECT_NUMBER}/locations/global/workloadIdentityPools/${i.workloadIdentityPoolId ?? name}`,
    }),
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": (name, i) => ({
        name: `projects/${PROJECT_NUMBER}/locations/global/workloadIdentityPools/${i.workloadIdentityPoolId ?? "pool"}/providers/${i.workloadIdentityPoolProviderId ?? name}`,
    }),
    "gcp:vertex/aiTensorboard:AiTensorboard": (name, i) => ({
        name: `projects/${PROJECT_NUMBER}/locations/${i.region ?? "region"}/tensorboards/${name}`,
    }),
    "gcp:vertex/aiMetadataStore:AiMetadataStore": (name, i) => ({
        name: `projects/${PROJECT_NUMBER}/locations/${i.region ?? "region"}/metadataStores/${i.name ?? name}`,
    }),
    "gcp:compute/network:Network": (name, i) => ({
        selfLink: `https://www.googleapis.com/compute/v1/projects/${i.project ?? "project"}/global/networks/${i.name ?? name}`,
    }),
    "gcp:compute/subnetwork:Subnetwork": (name, i) => ({
        selfLink: `https://www.googleapis.com/compute/v1/projects/${i.project ?? "project"}/regions/${i.region ?? "region"}/subnetworks/${i.name ?? name}`,
    }),
    "gcp:pubsub/topic:Topic": (name, i) => ({
        id: `projects/${i.project ?? "project"}/topics/${i.name ?? name}`,
    }),
    "gcp:secretmanager/secret:Secret": (name, i) => ({
        name: `projects/${PROJECT_NUMBER}/secrets/${i.secretId ?? name}`,
    }),
    // namePrefix plus the provider's 26-character suffix: here a digest of the inputs, so a changed template gets a new name.
    "gcp:compute/instanceTemplate:InstanceTemplate": (name, i) => {
        const n = i.name ?? `${i.namePrefix ?? `${name}-`}${createHash("sha256").update(JSON.stringify(i)).digest("hex").slice(0, 26)}`;
        return { name: n, selfLink: `https://www.googleapis.com/compute/v1/projects/${i.project ?? "project"}/global/instanceTemplates/${n}` };
    },
    "gcp:compute/router:Router": (name, i) => ({
        selfLink: `https://www.googleapis.com/compute/v1/projects/${i.project ?? "project"}/regions/${i.region ?? "region"}/routers/${i.name ?? name}`,
    }),
    // A static external address: one of TEST-NET-3 (RFC 5737), stable per name.
    "gcp:compute/address:Address": (name, i) => ({
        address: i.address ?? `203.0.113.${10 + (createHash("sha256").update(i.name ?? name).digest()[0] % 200)}`,
        selfLink: `https://www.googleapis.com/compute/v1/projects/${i.project ?? "project"}/regions/${i.region ?? "region"}/addresses/${i.name ?? name}`,
    }),
    "gcp:compute/instance:Instance": (name, i) => ({
        selfLink: `https://www.googleapis.com/compute/v1/projects/${i.project ?? "project"}/zones/${i.zone ?? "zone"}/instances/${i.name ?? name}`,
        instanceId: "4000000000000000001",
    }),
    "gcp:workbench/instance:Instance": (name, i) => ({
        proxyUri: `${i.name ?? name}.notebooks.googleusercontent.com`,
        state: "ACTIVE",
    }),
    "gcp:vertex/aiEndpoint:AiEndpoint": (name, i) => ({
        name: i.name ?? "1000000001",
    }),
    "gcp:billing/budget:Budget": (name, i) => ({
        name: `billingAccounts/${i.billingAccount ?? "billing-account"}/budgets/${name}`,
    }),
    "gcp:secretmanager/secretVersion:SecretVersion": (_name, i) => ({
        name: `${i.secret ?? "secret"}/versions/1`,
        version: "1",
    }),
    // The pushed image's digest, derived from its name (a content tag): stable across runs, new with a new tag.
    "docker:index/image:Image": (_name, i) => {
        const ref = String(i.imageName ?? "image:latest");
        const repo = ref.replace(/:[^:/]+$/, "");
        return { repoDigest: `${repo}@sha256:${createHash("sha256").update(ref).digest("hex")}`, baseImageName: ref, registryServer: repo.split("/")[0] };
    },
    // A research users' certificate step prints its host's user CA (components/hybrid/identity/user-certs.ts).
    "command:remote:Command": commandStdout,
    "command:local:Command": commandStdout,
    "tls:index/certRequest:CertRequest": () => ({
        certRequestPem: "-----BEGIN CERTIFICATE REQUEST-----\nMOCK\n-----END CERTIFICATE REQUEST-----\n",
    }),
    "random:index/randomBytes:RandomBytes": (_name, i) => ({
        base64: Buffer.alloc(Number(i.length ?? 32), 7).toString("base64"),
        hex: Buffer.alloc(Number(i.length ?? 32), 7).toString("hex"),
    }),
    "random:index/randomPassword:RandomPassword": (_name, i) => ({
        result: "x".repeat(Number(i.length ?? 16)),
    }),
    "tls:index/privateKey:PrivateKey": () => ({
        privateKeyPem: "-----BEGIN PRIVATE KEY-----\nMOCK\n-----END PRIVATE KEY-----\n",
        publicKeyPem: "-----BEGIN PUBLIC KEY-----\nMOCK\n-----END PUBLIC KEY-----\n",
    }),
    "tls:index/selfSignedCert:SelfSignedCert": () => ({
        certPem: "-----BEGIN CERTIFICATE-----\nMOCK-CA\n-----END CERTIFICATE-----\n",
    }),
    "tls:index/locallySignedCert:LocallySignedCert": () => ({
        certPem: "-----BEGIN CERTIFICATE-----\nMOCK-LEAF\n-----END CERTIFICATE-----\n",
    }),
};

export function mockState(type: string, name: string, inputs: Inputs, ctx: Ctx): Inputs {
    const f = computed[type];
    return f ? f(name, inputs, ctx) : {};
}

export class UnmockedCallError extends Error {
    constructor(token: string) {
        super(`provider function '${token}' has no mock: add one to tools/plan/mock-state.ts (known: ${Object.keys(calls).join(", ")})`);
        this.name = "UnmockedCallError";
    }
}

const calls: Record<string, (i: Inputs, ctx: Ctx) => Inputs> = {
    "gcp:organizations/getProject:getProject": (i) => ({
        projectId: i.projectId ?? "project",
        number: PROJECT_NUMBER,
        name: i.projectId ?? "project",
    }),
    "gcp:organizations/getClientConfig:getClientConfig": () => ({ project: "project", region: "region", zone: "zone", accessToken: "" }),
};

/** Provider functions the stack calls; anything else fails the run loudly. */
export function mockCall(token: string, inputs: Inputs, ctx: Ctx): Inputs {
    const f = calls[token];
    if (!f) throw new UnmockedCallError(token);
    return f(inputs, ctx);
}
