import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HostConfig, SecretValue, UNDECRYPTED_SECRET } from "../../../config";
import { HostFacts, parseFacts } from "./facts";
import { readScript, scriptCommand } from "./script";
import { hostStep, Transport } from "./step";

export { parseFacts, checkFacts, FactsError } from "./facts";
export type { HostFacts } from "./facts";
export { hostStep } from "./step";
export type { Transport, StepArgs } from "./step";
export { scriptCommand, shellQuote, readScript } from "./script";

export interface HostArgs {
    host: HostConfig;
    transport: "ssh" | "local";
    /** Required for `ssh`. */
    privateKey?: SecretValue;
}

/**
 * One workstation: how to reach it, and what it is. The facts probe is
 * read-only and runs first; its parsed output feeds every other component.
 */
export class Host extends pulumi.ComponentResource {
    public readonly name: string;
    public readonly config: HostConfig;
    public readonly transport: Transport;
    public readonly facts: pulumi.Output<HostFacts>;
    public readonly probe: command.remote.Command | command.local.Command;

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Host", name, {}, opts);
        this.name = args.host.name;
        this.config = args.host;
        if (args.transport === "ssh") {
            if (!args.privateKey || !args.host.address || !args.host.hostKey) {
                throw new pulumi.ResourceError(`host '${args.host.name}': the ssh transport needs an address, a pinned hostKey and aihpc:sshPrivateKey`, this);
            }
            this.transport = {
                kind: "ssh",
                connection: {
                    host: args.host.address,
                    port: args.host.port,
                    user: args.host.user,
                    hostKey: args.host.hostKey,
                    privateKey: pulumi.secret(args.privateKey.value ?? UNDECRYPTED_SECRET),
                    dialErrorLimit: 10,
                    perDialTimeout: 15,
                },
            };
        } else {
            this.transport = { kind: "local", sudo: typeof process.getuid === "function" && process.getuid() !== 0 };
        }
        this.probe = hostStep(
            `${name}-facts`,
            this.transport,
            { create: scriptCommand(readScript(`${__dirname}/scripts`, "facts.sh")) },
            { parent: this },
        );
        this.facts = this.probe.stdout.apply((out) => parseFacts(out));
        this.registerOutputs({ facts: this.facts });
    }
}
