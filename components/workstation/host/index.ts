import * as command from "@pulumi/command";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { HostConfig, SecretValue, UNDECRYPTED_SECRET } from "../../../config";
import { BUNDLE_ROOT, buildBundle, STEP_SCRIPTS_DIR } from "../../steps/bundle";
import { COPIED_FILES_DIR } from "../../steps/copied";
import { join } from "../../steps/join";
import { AccountIds, checkFacts, HostFacts, parseFacts } from "./facts";
import { readInlineScript, scriptCommand } from "../../steps/shell";
import { hostStep, Transport } from "../../steps/host-step";

export { parseFacts, checkFacts, FactsError } from "./facts";
export type { AccountIds, HostFacts } from "./facts";
export { hostStep } from "../../steps/host-step";
export { BUNDLE_ROOT, bundlePath } from "../../steps/bundle";
export type { Transport, StepArgs } from "../../steps/host-step";
export { scriptCommand, shellQuote, readScript, readInlineScript } from "../../steps/shell";

/** Teardown of the bundle: last on each host, since every step's delete runs from it. A step command (`bash -c`), so `asRoot` can wrap it. */
const BUNDLE_DELETE = scriptCommand(
    // And a copy an install never took (a failed install, a re-copy from another checkout): teardown leaves no file behind.
    // The stack files the steps kept (lib.sh aihpc_inputs, `-copied`) came the same way in, and go with it.
    `rm -f /var/tmp/aihpc-bundle-*.tar.gz /var/tmp/aihpc-file-*; rm -rf ${COPIED_FILES_DIR}; if [ -d ${BUNDLE_ROOT} ]; then rm -rf ${BUNDLE_ROOT} && rmdir /var/lib/aihpc 2>/dev/null; echo "aihpc: removed ${BUNDLE_ROOT}"; fi; true`,
);

export interface HostArgs {
    host: HostConfig;
    transport: "ssh" | "local";
    /** For `ssh`: the key, or `agent` (workstation.sshAuth). */
    privateKey?: SecretValue;
    /** For `ssh`: authenticate with the agent of the process that runs `pulumi up` (SSH_AUTH_SOCK); no key in the connection. */
    agent?: boolean;
}

/**
 * workstation.sshAuth 'agent' on `pulumi up`: the command provider reads
 * SSH_AUTH_SOCK itself, and without a usable socket every host would fail
 * with "unable to authenticate"; one line first, before anything runs.
 */
export function checkSshAgent(socket: string | undefined): void {
    const fix = 'start an agent holding the key the hosts accept (`eval "$(ssh-agent)"; ssh-add ~/.ssh/id_ed25519`) in the shell that runs `pulumi up`, or set workstation.sshAuth: key and aihpc:sshPrivateKey';
    let why: string | undefined;
    if (!socket) why = "SSH_AUTH_SOCK is not set";
    else {
        try {
            if (!fs.statSync(socket).isSocket()) why = `SSH_AUTH_SOCK (${socket}) is not a socket`;
        } catch {
            why = `SSH_AUTH_SOCK names ${socket}, which does not exist (an agent that has exited?)`;
        }
    }
    if (why) throw new pulumi.RunError(`workstation.sshAuth is 'agent', but ${why}: ${fix}; nothing was changed`);
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
     * once `gateOnAllHosts` ran, a check of every host of the stack (so that
     * one unfit or unreachable host stops the apply before anything changes)
     * and then the step bundle installed on this host.
     */
    public ready: pulumi.Input<pulumi.Resource>;
    /** The step bundle on this host (set by `gateOnAllHosts`). */
    public bundle?: pulumi.Resource;
    private readonly resourceName: string;

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Host", name, {}, opts);
        this.resourceName = name;
        this.name = args.host.name;
        this.config = args.host;
        if (args.transport === "ssh") {
            if ((!args.privateKey && !args.agent) || !args.host.address || !args.host.hostKey) {
                throw new pulumi.ResourceError(`host '${args.host.name}': the ssh transport needs an address, a pinned hostKey and aihpc:sshPrivateKey (or workstation.sshAuth: agent)`, this);
            }
            this.transport = {
                kind: "ssh",
                connection: {
                    host: args.host.address,
                    port: args.host.port,
                    user: args.host.user,
                    hostKey: args.host.hostKey,
                    // With the agent: none; the provider asks SSH_AUTH_SOCK.
                    ...(args.privateKey ? { privateKey: pulumi.secret(args.privateKey.value ?? UNDECRYPTED_SECRET) } : {}),
                    dialErrorLimit: 10,
                    perDialTimeout: 15,
                },
                // Not root: every step through `sudo -n` (step.ts `asRoot`); the probe checks it works.
                sudo: args.host.user !== "root",
            };
        } else {
            this.transport = { kind: "local", sudo: typeof process.getuid === "function" && process.getuid() !== 0 };
        }
        this.probe = hostStep(
            `${name}-facts`,
            this.transport,
            // As the connection's user: read-only, and it reports whether sudo works (checkFacts).
            { create: scriptCommand(readInlineScript(`${__dirname}/scripts`, "facts.sh")), unprivileged: true },
            { parent: this },
        );
        this.facts = this.probe.stdout.apply((out) => parseFacts(out));
        this.ready = this.probe;
        this.registerOutputs({ facts: this.facts });
    }

    /**
     * Copy the step bundle (components/steps/bundle.ts) here and unpack it, after `after`.
     * Over SSH the archive goes to /var/tmp first (writable by any admin user),
     * and the install step checks its sha256 before unpacking it as root.
     */
    installBundle(after: pulumi.Input<pulumi.Resource>[]): pulumi.Resource {
        // Only the archive's name and checksum: an Output walks every value it holds (the entries' bytes too).
        const bundle = pulumi.output(buildBundle().then((b) => ({ sha256: b.sha256, file: b.file })));
        const script = readInlineScript(STEP_SCRIPTS_DIR, "bundle.sh");
        const opts = { parent: this, dependsOn: after };
        let env: pulumi.Output<{ BUNDLE_TAR: string; BUNDLE_SHA256: string; REMOVE_TAR: string }>;
        let installAfter: pulumi.Input<pulumi.Resource>[] = after;
        if (this.transport.kind === "ssh") {
            const remotePath = bundle.apply((b) => `/var/tmp/aihpc-bundle-${b.sha256.slice(0, 16)}.tar.gz`);
            const copy = new command.remote.CopyToRemote(
                `${this.resourceName}-bundle-copy`,
                { connection: this.transport.connection, source: bundle.apply((b) => new pulumi.asset.FileAsset(b.file)), remotePath },
                opts,
            );
            installAfter = [copy];
            env = pulumi.all([bundle, remotePath]).apply(([b, p]) => ({ BUNDLE_TAR: p, BUNDLE_SHA256: b.sha256, REMOVE_TAR: "1" }));
        } else {
            env = bundle.apply((b) => ({ BUNDLE_TAR: b.file, BUNDLE_SHA256: b.sha256, REMOVE_TAR: "0" }));
        }
        this.bundle = hostStep(
            `${this.resourceName}-bundle`,
            this.transport,
            { create: env.apply((e) => scriptCommand(script, { ...e, AIHPC_ACTION: "apply" })), delete: BUNDLE_DELETE },
            { parent: this, dependsOn: installAfter },
        );
        return this.bundle;
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
export function gateOnAllHosts(name: string, hosts: Host[], ids?: AccountIds, opts?: pulumi.CustomResourceOptions): void {
    const checked = pulumi.all(hosts.map((h) => h.facts)).apply((all) => {
        const problems = all.flatMap((f, i) => checkFacts(hosts[i].name, f, hosts[i].transport.kind, ids));
        if (problems.length) throw new PreflightError(problems);
        return "passed";
    });
    // One resource holds the verdict (`<name>-preflight`, runs nothing): each host's bundle waits
    // for it alone, not for every host's probe (which would grow the state with the square of the hosts).
    const gate = join(`${name}-preflight`, "AIHPC_PREFLIGHT", checked, opts ?? {}).resource;
    for (const h of hosts) h.ready = h.installBundle([gate, h.probe]);
}
