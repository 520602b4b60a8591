import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GcpContext } from "../context";
import { applyIam, IamArgs } from "../iam";

export interface SecretSpec extends IamArgs {
    /** A value the stack itself holds (e.g. a generated key): stored as the first version. Secret. */
    value?: pulumi.Input<string>;
    /** `value` is base64 of binary data (a key file): stored as those bytes. */
    valueIsBase64?: boolean;
    description?: string;
}

export interface SecretsArgs {
    ctx: GcpContext;
    /** Secret name (the `<role>` in `<prefix>-<stack>-<role>`) -> what it holds and who may read it. */
    secrets: Record<string, SecretSpec>;
}

/**
 * Secret Manager secrets the stack keeps, replicated automatically, labelled,
 * readable only by the identities granted `secretAccessor` on each secret.
 * Secrets without a `value` are created empty: their values are added out of
 * band (`gcloud secrets versions add NAME --data-file=-`) and never enter
 * Pulumi state.
 */
export class Secrets extends pulumi.ComponentResource {
    public readonly secrets: Record<string, gcp.secretmanager.Secret> = {};

    constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:Secrets", name, {}, opts);
        const { ctx } = args;
        for (const [id, spec] of Object.entries(args.secrets)) {
            const secret = new gcp.secretmanager.Secret(
                `${name}-${id}`,
                {
                    project: ctx.project,
                    secretId: ctx.naming.name(id, 255, "secret id"),
                    replication: { auto: {} },
                    labels: { ...ctx.labels, secret: id },
                    annotations: spec.description ? { description: spec.description } : undefined,
                },
                { parent: this },
            );
            this.secrets[id] = secret;
            if (spec.value !== undefined) {
                new gcp.secretmanager.SecretVersion(`${name}-${id}-v`, { secret: secret.id, secretData: pulumi.secret(spec.value), isSecretDataBase64: spec.valueIsBase64 }, { parent: this });
            }
            applyIam(
                `${name}-${id}`,
                spec,
                {
                    binding: (n, role, members, o) => new gcp.secretmanager.SecretIamBinding(n, { project: ctx.project, secretId: secret.secretId, role, members }, o),
                    member: (n, role, member, condition, o) =>
                        new gcp.secretmanager.SecretIamMember(n, { project: ctx.project, secretId: secret.secretId, role, member, condition }, o),
                },
                this,
                { allowUserMembers: ctx.allowUserMembers },
            );
        }
        this.registerOutputs({ secrets: pulumi.output(Object.fromEntries(Object.entries(this.secrets).map(([k, s]) => [k, s.name]))) });
    }
}
