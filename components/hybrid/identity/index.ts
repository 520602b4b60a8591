import * as pulumi from "@pulumi/pulumi";
import { HybridConfig } from "../../../config/hybrid";
import { versions } from "../../../config/versions";
import { WorkstationCredential } from "../../gcp/workload-identity";
import { Host } from "../../workstation/host";
import { scriptStep, stepOptions } from "../../steps";
import { credentialEnvironment, GCLOUD_REPO_NAME, gcloudPackageSpecs, gcloudPin, gcloudSource, PATHS, USER_CREDENTIALS_SUBDIR } from "./files";

const SCRIPTS = `${__dirname}/scripts`;

export interface IdentityArgs {
    hosts: Host[];
    config: HybridConfig;
    /** The X.509 credential the gcp side made for the workstation (component property, not a stack output). */
    credential: WorkstationCredential;
    project: string;
    /** Artifact Registry hosts Docker authenticates to through gcloud (`<region>-docker.pkg.dev`). */
    registryHosts: string[];
    /** Research users: their own credential configuration (beside their certificate) and the Docker credential helper. */
    users: string[];
    /** Each host's research-user certificate step (user-certs.ts), which the credential configurations sit beside. */
    userCerts?: Record<string, pulumi.Resource>;
    /** Also install Cloud Storage FUSE (data mode gcsfuse). */
    gcsfuse: boolean;
    /** What each host's steps wait for (the cloud identities, the host's base system), by host name. */
    waitFor: Record<string, pulumi.Input<pulumi.Resource>[]>;
}

export interface IdentitySteps {
    credentials: pulumi.Resource;
    gcloud?: pulumi.Resource;
    dockerAuth: pulumi.Resource;
}

export * from "./files";

/** `name=version` words of what the gcloud step installs. */
export function gcloudPackages(c: HybridConfig, gcsfuse: boolean): string {
    return gcloudPackageSpecs(c, gcsfuse).join(" ");
}

/**
 * Keyless Google Cloud credentials on the workstation: per host, the service
 * identity (X.509 credential configuration, certificate and key, key on stdin
 * only, 0600 root) that system services use as the workstation's service
 * account; each research user's own credential configuration beside the
 * certificate user-certs.ts made for them; Application Default Credentials, the Google Cloud CLI (pinned, from Google's apt repository or a
 * mirror), and Docker's credential helper for Artifact Registry. Created after
 * the cloud identities and, on destroy, removed before them.
 */
export class WorkstationIdentity extends pulumi.ComponentResource {
    public readonly steps: Record<string, IdentitySteps> = {};

    constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:hybrid:Identity", name, {}, opts);
        const cred = args.credential;
        const users = args.users.join(" ");
        const environment = credentialEnvironment(cred.paths.dir, args.project);
        const credentialPaths = {
            CERT_DIR: cred.paths.dir,
            USER_SUBDIR: USER_CREDENTIALS_SUBDIR,
            PROFILE_FILE: PATHS.profile,
            ENVIRONMENT_D_FILE: PATHS.environmentD,
            SYSTEM_CONF_FILE: PATHS.systemConf,
        };
        for (const h of args.hosts) {
            const n = `${name}-${h.name}`;
            const after = stepOptions(this, h, args.waitFor[h.name]);
            const credentials = scriptStep(
                `${n}-credentials`,
                h.transport,
                {
                    dir: SCRIPTS,
                    file: "credentials.sh",
                    env: { ...credentialPaths, USERS: users },
                    files: pulumi.all([cred.credentialConfig, cred.certPem, cred.userCredentialConfig]).apply(([config, cert, userConfig]) => ({
                        CREDENTIAL_CONFIG: config,
                        CERT_PEM: cert.trim(),
                        USER_CREDENTIAL_CONFIG: userConfig,
                        PROFILE: environment.profile,
                        ENVIRONMENT_D: environment.environmentD,
                        SYSTEM_CONF: environment.systemConf,
                    })),
                    deleteEnv: credentialPaths,
                    // The private key: stdin only, never in a command string.
                    stdin: cred.keyPem,
                },
                after(...(args.userCerts?.[h.name] ? [args.userCerts[h.name]] : [])),
            );
            let gcloud: pulumi.Resource | undefined;
            if (args.config.gcloudCli.install) {
                gcloud = scriptStep(
                    `${n}-gcloud`,
                    h.transport,
                    {
                        dir: SCRIPTS,
                        file: "gcloud-cli.sh",
                        env: {
                            REPO_NAME: GCLOUD_REPO_NAME,
                            REPO: args.config.gcloudCli.aptRepository.replace(/\/+$/, ""),
                            PACKAGES: gcloudPackages(args.config, args.gcsfuse),
                            KEY_PATH: versions.aptKeys.googleCloud.path,
                            // Required by the schema with gcloudCli.install (config/hybrid.ts).
                            FINGERPRINTS: (args.config.gcloudCli.keyFingerprints ?? []).join(" "),
                            KEY_SHA256: args.config.gcloudCli.keySha256 ?? "",
                        },
                        files: { SOURCE: gcloudSource(args.config, args.gcsfuse), PIN: gcloudPin(args.config, args.gcsfuse) },
                        deleteEnv: { REPO_NAME: GCLOUD_REPO_NAME },
                    },
                    after(),
                );
            }
            const dockerAuth = scriptStep(
                `${n}-docker-auth`,
                h.transport,
                { dir: SCRIPTS, file: "docker-auth.sh", env: { REGISTRIES: args.registryHosts.join(" "), USERS: users } },
                after(credentials, ...(gcloud ? [gcloud] : [])),
            );
            this.steps[h.name] = { credentials, gcloud, dockerAuth };
        }
        this.registerOutputs({});
    }
}
