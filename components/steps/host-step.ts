import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { track } from "./turns";

/** How a step reaches its host: over SSH, or on the machine running Pulumi. */
export type Transport =
    /** `sudo`: the connection's user is not root, so every command runs through `sudo -n` (see `asRoot`). */
    | { kind: "ssh"; connection: command.types.input.remote.ConnectionArgs; sudo: boolean }
    | { kind: "local"; sudo: boolean };

export interface StepArgs {
    create: pulumi.Input<string>;
    /** Unset: the provider runs `create` again (every step is idempotent), and the state holds it once. */
    update?: pulumi.Input<string>;
    /** Teardown; omitted for read-only steps. */
    delete?: pulumi.Input<string>;
    /** Secrets travel here, never in a command string. */
    stdin?: pulumi.Input<string>;
    /**
     * Run as the connection's own user, not as root: only the read-only facts
     * probe, which must answer (and report whether sudo works) before anything
     * asks for root.
     */
    unprivileged?: boolean;
}

// A command as the steps build it: settings (`NAME='value'`, shellQuote'd)
// in front of `bash`. Nothing else may reach `asRoot`.
const SIMPLE_COMMAND = /^(?:[A-Z][A-Z0-9_]*='[^']*(?:'\\''[^']*)*' )*bash(?: |$)/;

/**
 * `cmd` run as root by a user with passwordless sudo: `sudo -n env NAME='v' ... bash ...`.
 * `env` sets the settings after sudo (whose env_reset would drop them), the
 * quoting stays the words shellQuote made, stdin (payload, secret) passes
 * through sudo to the script, and `-n` fails at once instead of asking for a
 * password (the facts probe has already refused such a host).
 */
export function asRoot(cmd: string): string {
    if (!SIMPLE_COMMAND.test(cmd)) throw new Error(`asRoot: not a step command (settings, then bash): ${cmd.slice(0, 80)}`);
    return `sudo -n env ${cmd}`;
}

/**
 * One provisioning step on one host: `remote.Command` over SSH, or
 * `local.Command`; through `sudo -n` when the SSH user, or the user running
 * Pulumi, is not root (the one place commands are wrapped).
 */
export function hostStep(name: string, transport: Transport, args: StepArgs, opts: pulumi.CustomResourceOptions): command.remote.Command | command.local.Command {
    const sudo = transport.sudo && !args.unprivileged;
    if (transport.kind === "ssh") {
        const wrap = (c: pulumi.Input<string> | undefined) => (c === undefined || !sudo ? c : typeof c === "string" ? asRoot(c) : pulumi.output(c).apply(asRoot));
        const remote = {
            connection: transport.connection,
            create: wrap(args.create),
            update: wrap(args.update),
            delete: wrap(args.delete),
            stdin: args.stdin,
            addPreviousOutputInEnv: false,
            logging: "stdoutAndStderr",
        } as const;
        return track(new command.remote.Command(name, remote, opts));
    }
    const local = {
        create: args.create,
        update: args.update,
        delete: args.delete,
        stdin: args.stdin,
        interpreter: sudo ? ["sudo", "-n", "/bin/sh", "-c"] : ["/bin/sh", "-c"],
        addPreviousOutputInEnv: false,
        logging: "stdoutAndStderr",
    } as const;
    return track(new command.local.Command(name, local, opts));
}
