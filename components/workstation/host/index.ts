import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HostConfig, SecretValue, UNDECRYPTED_SECRET } from "../../../config";
import { checkFacts, HostFacts, parseFacts } from "./facts";
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
    /**
     * What every changing step on this host waits for: its facts probe, and
     * once `gate` is called, a check of every host of the stack, so that one
     * unfit or unreachable host stops the apply before anything changes.
     */
    public ready: pulumi.Input<pulumi.Resource>;

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
        this.ready = this.probe;
        this.registerOutputs({ facts: this.facts });
    }
}

// A RunError: the CLI prints the message alone, without a stack trace.
export class PreflightError extends pulumi.RunError {
    constructor(public readonly problems: string[]) {
        super(`preflight: ${problems.length} host${problems.length === 1 ? " is" : "s are"} unfit, nothing was changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "PreflightError";
    }
}

/**
 * Hold every host's steps until every host's probe has answered and passed
 * `checkFacts`. Read-only probes run first everywhere; a host that is
 * unreachable, not Debian 12 or without systemd fails the apply before any
 * step changes any host.
 */
export function gateOnAllHosts(hosts: Host[]): void {
    const checked = pulumi.all(hosts.map((h) => h.facts)).apply((all) => {
        const problems = all.flatMap((f, i) => checkFacts(hosts[i].name, f));
        if (problems.length) throw new PreflightError(problems);
        return true;
    });
    for (const h of hosts) h.ready = checked.apply(() => h.probe);
}
