import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/** How a step reaches its host: over SSH, or on the machine running Pulumi. */
export type Transport =
    | { kind: "ssh"; connection: command.types.input.remote.ConnectionArgs }
    | { kind: "local"; sudo: boolean };

export interface StepArgs {
    create: pulumi.Input<string>;
    /** Unset: the provider runs `create` again (every step is idempotent), and the state holds it once. */
    update?: pulumi.Input<string>;
    /** Teardown; omitted for read-only steps. */
    delete?: pulumi.Input<string>;
    /** Secrets travel here, never in a command string. */
    stdin?: pulumi.Input<string>;
    /** A change in these replaces the step (delete, then create). */
    triggers?: pulumi.Input<any[]>;
}

/**
 * One provisioning step on one host: `remote.Command` over SSH, or
 * `local.Command` (through `sudo -n` when Pulumi does not run as root).
 */
export function hostStep(name: string, transport: Transport, args: StepArgs, opts: pulumi.CustomResourceOptions): command.remote.Command | command.local.Command {
    if (transport.kind === "ssh") {
        return new command.remote.Command(
            name,
            {
                connection: transport.connection,
                create: args.create,
                update: args.update,
                delete: args.delete,
                stdin: args.stdin,
                triggers: args.triggers,
                addPreviousOutputInEnv: false,
                logging: "stdoutAndStderr",
            },
            opts,
        );
    }
    return new command.local.Command(
        name,
        {
            create: args.create,
            update: args.update,
            delete: args.delete,
            stdin: args.stdin,
            triggers: args.triggers,
            interpreter: transport.sudo ? ["sudo", "-n", "/bin/sh", "-c"] : ["/bin/sh", "-c"],
            addPreviousOutputInEnv: false,
            logging: "stdoutAndStderr",
        },
        opts,
    );
}
