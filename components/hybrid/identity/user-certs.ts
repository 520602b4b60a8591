import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../workstation/host";
import { scriptStep, stepOptions } from "../../steps";

const SCRIPTS = `${__dirname}/scripts`;

/** Where each host keeps its user CA (key 0600 root; made on the host, never sent anywhere). */
export const USER_CA_DIR = "/etc/aihpc/user-ca";

export interface UserCertificatesArgs {
    hosts: Host[];
    /** Research users (workstation.base.users). */
    users: string[];
    /** `<prefix>-<stack>-u-`: a user's certificate subject is this plus their name (gcp/workload-identity userSubject). */
    subjectPrefix: string;
    /** `<prefix>-<stack>`, for the CA's name. */
    stackName: string;
    validityDays: number;
    /** What each host's step waits for (its users), by host name. */
    after: Record<string, pulumi.Input<pulumi.Resource>[]>;
}

/** The CA certificate a user-certs step prints between its markers; fails loudly when there is none. */
export function userCaFromStdout(stdout: string | undefined, host: string): string {
    const m = /AIHPC-USER-CA-BEGIN\n(-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----)\nAIHPC-USER-CA-END/.exec(stdout ?? "");
    if (!m) throw new Error(`the user-certs step of host ${host} printed no CA certificate: see its output (${(stdout ?? "").slice(-400)})`);
    return `${m[1]}\n`;
}

/**
 * Each research user's own certificate, on each host: the key made on the host
 * for that user, signed there by the host's user CA (see
 * scripts/user-certs.sh). The CA certificates come back as `caCerts`, the X.509
 * provider's trust anchors, so this runs before the Google Cloud side; the
 * credential configuration that names the provider comes later (credentials.sh).
 */
export class UserCertificates extends pulumi.ComponentResource {
    public readonly steps: Record<string, pulumi.Resource> = {};
    public readonly caCerts: pulumi.Output<string>[] = [];

    constructor(name: string, args: UserCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:hybrid:UserCertificates", name, {}, opts);
        for (const h of args.hosts) {
            const step = scriptStep(
                `${name}-${h.name}`,
                h.transport,
                {
                    dir: SCRIPTS,
                    file: "user-certs.sh",
                    env: {
                        CA_DIR: USER_CA_DIR,
                        USERS: args.users.join(" "),
                        SUBJECT_PREFIX: args.subjectPrefix,
                        CA_NAME: `${args.stackName} ${h.name} user CA`,
                        VALIDITY_DAYS: args.validityDays,
                    },
                    deleteEnv: { CA_DIR: USER_CA_DIR },
                },
                stepOptions(this, h, args.after[h.name])(),
            );
            this.steps[h.name] = step;
            this.caCerts.push(step.stdout.apply((out) => userCaFromStdout(out, h.name)));
        }
        this.registerOutputs({});
    }
}
