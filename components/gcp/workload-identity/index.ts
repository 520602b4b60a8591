import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { GcpConfig } from "../../../config";
import { GcpContext } from "../context";
import { Naming } from "../naming";
import { applyIam, roleSlug } from "../iam";
import { serviceAccountIam } from "../identity";

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

export interface WorkloadIdentityArgs {
    ctx: GcpContext;
    github?: GcpConfig["github"];
    workstation: GcpConfig["workstationIdentity"];
    /**
     * Research users with certificates of their own (workstation.base.users, with the bridge),
     * and the trust anchors that issue them: each workstation host's user CA, read back from
     * the host (components/hybrid/identity/user-certs.ts). Empty: the service identity only.
     */
    users?: { names: string[]; caCerts: pulumi.Input<string>[] };
    /** Service accounts the federated identities act as. */
    accounts: {
        workstation: gcp.serviceaccount.Account;
        ciPreview?: gcp.serviceaccount.Account;
        ciDeploy?: gcp.serviceaccount.Account;
    };
}

/** What the workstation needs to act as its service account; delivered by the hybrid component. */
export interface WorkstationCredential {
    /** gcloud/ADC credential configuration (`external_account`, X.509 source): write to `paths.credentialConfig`. */
    credentialConfig: pulumi.Output<string>;
    /** The certificate configuration the credential configuration points at: write to `paths.certificateConfig`. */
    certificateConfig: string;
    certPem: pulumi.Output<string>;
    /** Secret. */
    keyPem: pulumi.Output<string>;
    caCertPem: pulumi.Output<string>;
    paths: { dir: string; credentialConfig: string; certificateConfig: string; cert: string; key: string };
    /** The certificate's common name, the federated subject. */
    subject: string;
    /** Research users: their certificate's common name and their principal in the pool. */
    users: Record<string, { subject: string; principal: pulumi.Output<string> }>;
    /** Every research user's principal set (`attribute.lab/researchers`): what the lab is granted. */
    labPrincipalSet: pulumi.Output<string>;
    /** A research user's credential configuration, with CERT_CONFIG_PATH where their certificate configuration's path goes. */
    userCredentialConfig: pulumi.Output<string>;
}

/** Research users' certificates: `<prefix>-<stack>-u-<user>`; the X.509 provider maps it to the user's principal. */
export function userSubjectPrefix(n: Naming): string {
    return `${n.name("u")}-`;
}

export function userSubject(n: Naming, user: string): string {
    // A certificate's common name holds at most 64 characters (RFC 5280 ub-common-name).
    return n.name(`u-${user}`, 64, `certificate common name of research user ${user}`);
}

/** The one place the pool decides which certificate subjects it admits: the service identity and every current research user. */
export function x509Condition(subjects: string[]): string {
    return subjects.length === 1 ? `assertion.subject.dn.cn == "${subjects[0]}"` : `assertion.subject.dn.cn in [${subjects.map((s) => `"${s}"`).join(", ")}]`;
}

export const LAB_ATTRIBUTE = "lab";
export const LAB_RESEARCHERS = "researchers";

export const CERT_CONFIG_PATH = "@CERT_CONFIG_PATH@";

/** The GitHub provider accepts a token only from this repository and owner, by numeric id (renames and look-alikes do not match). */
export function githubCondition(gh: NonNullable<GcpConfig["github"]>): string {
    return `assertion.repository_id == "${gh.repositoryId}" && assertion.repository_owner_id == "${gh.ownerId}"`;
}

/**
 * The deploy provider's condition: the repository and owner ids, the deploy branch and the
 * GitHub environment (whose protection rules, such as required reviewers, gate the job).
 */
export function githubDeployCondition(gh: NonNullable<GcpConfig["github"]>): string {
    return `${githubCondition(gh)} && assertion.ref == "refs/heads/${gh.deployBranch}" && assertion.environment == "${gh.deployEnvironment}"`;
}

const HOURS_PER_DAY = 24;

/**
 * Keyless access from outside Google Cloud: one workload identity pool with
 * - two GitHub Actions OIDC providers pinned to the repository and owner ids:
 *   one for the preview identity (any ref of the repository), one for the
 *   deploy identity (the deploy branch, in the reviewed GitHub environment);
 * - an X.509 provider for the workstation: the stack makes a private CA and a
 *   client certificate (@pulumi/tls), registers the CA as trust anchor, lets the
 *   certificate's subject act as the workstation service account, and outputs
 *   the credential configuration gcloud and the client libraries read.
 * Note: deleted pools and providers keep their ids for 30 days.
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
    public readonly pool: gcp.iam.WorkloadIdentityPool;
    public readonly githubProvider?: gcp.iam.WorkloadIdentityPoolProvider;
    public readonly githubDeployProvider?: gcp.iam.WorkloadIdentityPoolProvider;
    public readonly x509Provider?: gcp.iam.WorkloadIdentityPoolProvider;
    public readonly workstation?: WorkstationCredential;

    constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:WorkloadIdentity", name, {}, opts);
        const { ctx } = args;
        const n = ctx.naming;
        const poolId = n.poolId("pool");
        this.pool = new gcp.iam.WorkloadIdentityPool(
            `${name}-pool`,
            { project: ctx.project, workloadIdentityPoolId: poolId, displayName: poolId, description: "aihpc: GitHub Actions and the workstation" },
            { parent: this },
        );
        const principalSet = (attr: string, value: string) => pulumi.interpolate`principalSet://iam.googleapis.com/${this.pool.name}/attribute.${attr}/${value}`;
        const allow = { allowUserMembers: ctx.allowUserMembers };

        const gh = args.github;
        if (gh) {
            // Preview: any ref of the repository. It maps no ref and no environment, so
            // no token exchanged through it can match the deploy identity's principal set.
            this.githubProvider = new gcp.iam.WorkloadIdentityPoolProvider(
                `${name}-github`,
                {
                    project: ctx.project,
                    workloadIdentityPoolId: this.pool.workloadIdentityPoolId,
                    workloadIdentityPoolProviderId: "github",
                    displayName: "GitHub Actions",
                    description: `GitHub Actions of ${gh.repository} (repository ${gh.repositoryId}, owner ${gh.ownerId})`,
                    oidc: { issuerUri: GITHUB_ISSUER },
                    attributeMapping: {
                        "google.subject": "assertion.sub",
                        "attribute.repository_id": "assertion.repository_id",
                        "attribute.repository_owner_id": "assertion.repository_owner_id",
                        "attribute.repository": "assertion.repository",
                    },
                    attributeCondition: githubCondition(gh),
                },
                { parent: this },
            );
            // Deploy: its own provider, whose condition admits only jobs of the deploy
            // branch running in the reviewed environment (`environment:` of the job).
            this.githubDeployProvider = new gcp.iam.WorkloadIdentityPoolProvider(
                `${name}-github-deploy`,
                {
                    project: ctx.project,
                    workloadIdentityPoolId: this.pool.workloadIdentityPoolId,
                    workloadIdentityPoolProviderId: "github-deploy",
                    displayName: "GitHub Actions deploy",
                    description: `Deploy jobs of ${gh.repository}: branch ${gh.deployBranch}, environment ${gh.deployEnvironment}`,
                    oidc: { issuerUri: GITHUB_ISSUER },
                    attributeMapping: {
                        "google.subject": "assertion.sub",
                        "attribute.repository_id": "assertion.repository_id",
                        "attribute.ref": "assertion.ref",
                        "attribute.environment": "assertion.environment",
                    },
                    attributeCondition: githubDeployCondition(gh),
                },
                { parent: this },
            );
            if (args.accounts.ciPreview) {
                applyIam(
                    `${name}-ci-preview`,
                    { iam: { "roles/iam.workloadIdentityUser": [principalSet("repository_id", gh.repositoryId)] } },
                    serviceAccountIam(args.accounts.ciPreview),
                    this,
                    allow,
                );
            }
            if (args.accounts.ciDeploy) {
                // attribute.environment comes only from the deploy provider, whose condition pins repository, branch and environment.
                applyIam(
                    `${name}-ci-deploy`,
                    { iam: { "roles/iam.workloadIdentityUser": [principalSet("environment", gh.deployEnvironment)] } },
                    serviceAccountIam(args.accounts.ciDeploy),
                    this,
                    allow,
                );
            }
        }

        if (args.workstation.enabled) {
            const subject = n.name("ws");
            const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
            const ca = new tls.SelfSignedCert(
                `${name}-ca`,
                {
                    privateKeyPem: caKey.privateKeyPem,
                    isCaCertificate: true,
                    maxPathLength: 0,
                    subject: { commonName: `${n.name("")} workload identity CA`, organization: n.prefix },
                    validityPeriodHours: 10 * 365 * HOURS_PER_DAY,
                    allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
                    setSubjectKeyId: true,
                },
                { parent: this },
            );
            const key = new tls.PrivateKey(`${name}-ws-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
            const csr = new tls.CertRequest(`${name}-ws-csr`, { privateKeyPem: key.privateKeyPem, subject: { commonName: subject, organization: n.prefix } }, { parent: this });
            const validity = args.workstation.certValidityDays * HOURS_PER_DAY;
            const cert = new tls.LocallySignedCert(
                `${name}-ws-cert`,
                {
                    certRequestPem: csr.certRequestPem,
                    caPrivateKeyPem: caKey.privateKeyPem,
                    caCertPem: ca.certPem,
                    validityPeriodHours: validity,
                    earlyRenewalHours: Math.floor(validity / 5),
                    allowedUses: ["client_auth", "digital_signature"],
                    setSubjectKeyId: true,
                },
                { parent: this },
            );
            const users = args.users?.names ?? [];
            const userSubjects = Object.fromEntries(users.map((u) => [u, userSubject(n, u)]));
            const prefix = userSubjectPrefix(n);
            this.x509Provider = new gcp.iam.WorkloadIdentityPoolProvider(
                `${name}-x509`,
                {
                    project: ctx.project,
                    workloadIdentityPoolId: this.pool.workloadIdentityPoolId,
                    workloadIdentityPoolProviderId: "workstation-x509",
                    displayName: "Workstation (X.509)",
                    description: "The workstation's service certificate (the stack's CA) and research users' certificates (each host's user CA)",
                    // Google's X.509 trust store holds trust anchors and intermediate CAs only: it
                    // reads no CRL and asks no OCSP responder. A removed user is revoked by this
                    // provider's condition (their subject leaves the list at once) and by rotating
                    // the user CA of every host they had a certificate on (the anchor changes here).
                    x509: {
                        trustStore: {
                            trustAnchors: pulumi.all([ca.certPem, ...(args.users?.caCerts ?? [])]).apply((pems) => pems.map((pemCertificate) => ({ pemCertificate }))),
                        },
                    },
                    attributeMapping: {
                        "google.subject": "assertion.subject.dn.cn",
                        [`attribute.${LAB_ATTRIBUTE}`]: `assertion.subject.dn.cn.startsWith("${prefix}") ? "${LAB_RESEARCHERS}" : "services"`,
                    },
                    attributeCondition: x509Condition([subject, ...users.map((u) => userSubjects[u])]),
                },
                { parent: this },
            );
            const principal = (sub: string) => pulumi.interpolate`principal://iam.googleapis.com/${this.pool.name}/subject/${sub}`;
            const labPrincipalSet = principalSet(LAB_ATTRIBUTE, LAB_RESEARCHERS);
            // Extra project roles for one user, to their own principal (gcp.workstationIdentity.userRoles).
            const grants: Record<string, { role: string; member: pulumi.Input<string> }> = {};
            for (const [user, roles] of Object.entries(args.workstation.userRoles ?? {})) {
                if (!userSubjects[user]) throw new pulumi.ResourceError(`gcp.workstationIdentity.userRoles.${user}: not a research user of the workstation`, this);
                for (const role of roles) grants[`${user.replace(/_/g, "-")}-${roleSlug(role)}`] = { role, member: principal(userSubjects[user]) };
            }
            applyIam(
                `${name}-user`,
                { iamBindingsAdditive: grants },
                { member: (rn, role, member, condition, o) => new gcp.projects.IAMMember(rn, { project: ctx.project, role, member, condition }, o) },
                this,
                { ...allow, additiveOnly: true },
            );
            applyIam(
                `${name}-ws`,
                { iam: { "roles/iam.workloadIdentityUser": [pulumi.interpolate`principal://iam.googleapis.com/${this.pool.name}/subject/${subject}`] } },
                serviceAccountIam(args.accounts.workstation),
                this,
                allow,
            );
            const dir = args.workstation.certDir.replace(/\/+$/, "");
            const paths = {
                dir,
                credentialConfig: `${dir}/credentials.json`,
                certificateConfig: `${dir}/certificate_config.json`,
                cert: `${dir}/client.crt`,
                key: `${dir}/client.key`,
            };
            this.workstation = {
                subject,
                paths,
                certPem: cert.certPem,
                keyPem: pulumi.secret(key.privateKeyPem),
                caCertPem: ca.certPem,
                certificateConfig: JSON.stringify({ cert_configs: { workload: { cert_path: paths.cert, key_path: paths.key } } }, null, 2),
                credentialConfig: pulumi
                    .all([this.x509Provider.name, args.accounts.workstation.email])
                    .apply(([provider, email]) => credentialConfig(provider, email, paths.certificateConfig)),
                users: Object.fromEntries(users.map((u) => [u, { subject: userSubjects[u], principal: principal(userSubjects[u]) }])),
                labPrincipalSet,
                userCredentialConfig: this.x509Provider.name.apply((provider) => credentialConfig(provider, undefined, CERT_CONFIG_PATH)),
            };
        }
        this.registerOutputs({ pool: this.pool.name, github: this.githubProvider?.name, githubDeploy: this.githubDeployProvider?.name, x509: this.x509Provider?.name });
    }
}

/**
 * What `gcloud iam workload-identity-pools create-cred-config PROVIDER
 * --credential-cert-path ... --service-account EMAIL` writes: an external
 * account whose subject token is the client certificate, exchanged over mTLS,
 * then impersonating the service account.
 */
export function credentialConfig(providerName: string, serviceAccountEmail: string | undefined, certificateConfigPath: string): string {
    return JSON.stringify(
        {
            universe_domain: "googleapis.com",
            type: "external_account",
            audience: `//iam.googleapis.com/${providerName}`,
            subject_token_type: "urn:ietf:params:oauth:token-type:mtls",
            token_url: "https://sts.mtls.googleapis.com/v1/token",
            credential_source: { certificate: { certificate_config_location: certificateConfigPath } },
            // Research users act as themselves (their principal, in audit logs too): no impersonation.
            ...(serviceAccountEmail
                ? { service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${serviceAccountEmail}:generateAccessToken` }
                : {}),
        },
        null,
        2,
    );
}
