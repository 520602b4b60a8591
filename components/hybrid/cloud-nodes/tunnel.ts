import * as pulumi from "@pulumi/pulumi";
import { scriptStep } from "../../steps";
import { Host } from "../../workstation/host";
import { controllerWgConf, ControllerTunnelConf, wgPublicKeyFromStdout } from "./wireguard";

const SCRIPTS = `${__dirname}/scripts`;

export interface TunnelKeyArgs {
    controller: Host;
    iface: string;
    /** What must come first on the controller (its base system: apt works). */
    waitFor: pulumi.Input<pulumi.Resource>[];
}

/**
 * The controller's WireGuard key (gcp.cloudNodes.tunnel): made on the
 * controller by `wg genkey`, kept there (0600); only its public key leaves
 * the host, in the step's output, for the gateway's configuration. Before
 * the Google Cloud side: the gateway's metadata names this key.
 */
export class TunnelKey extends pulumi.ComponentResource {
    public readonly step: pulumi.Resource;
    public readonly publicKey: pulumi.Output<string>;

    constructor(name: string, args: TunnelKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:hybrid:TunnelKey", name, {}, opts);
        const step = scriptStep(
            `${name}-${args.controller.name}`,
            args.controller.transport,
            { dir: SCRIPTS, file: "tunnel-key.sh", env: { INTERFACE: args.iface }, deleteEnv: { INTERFACE: args.iface } },
            { parent: this, dependsOn: [args.controller.ready, ...args.waitFor] },
        );
        this.step = step;
        this.publicKey = step.stdout.apply((out) => wgPublicKeyFromStdout(out, args.controller.name));
        this.registerOutputs({ publicKey: this.publicKey });
    }
}

export interface ControllerTunnelArgs {
    controller: Host;
    iface: string;
    conf: pulumi.Input<Omit<ControllerTunnelConf, "iface">>;
    /** The key step, and the gateway (on destroy the tunnel goes down before the gateway). */
    waitFor: pulumi.Input<pulumi.Resource>[];
}

/**
 * The controller's end of the tunnel: its wg-quick configuration (no secret
 * in it) and wg-quick@<if>. The controller dials out to the gateway; nodes
 * reach slurmctld at its tunnel address, slurmctld reaches slurmd through the
 * same tunnel.
 */
export class ControllerTunnel extends pulumi.ComponentResource {
    public readonly step: pulumi.Resource;

    constructor(name: string, args: ControllerTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:hybrid:ControllerTunnel", name, {}, opts);
        const conf = pulumi.output(args.conf);
        this.step = scriptStep(
            `${name}-${args.controller.name}`,
            args.controller.transport,
            {
                dir: SCRIPTS,
                file: "tunnel.sh",
                env: { INTERFACE: args.iface },
                files: conf.apply((c) => ({ WG_CONF: controllerWgConf({ ...c, iface: args.iface }) })),
                deleteEnv: { INTERFACE: args.iface },
            },
            { parent: this, dependsOn: [args.controller.ready, ...args.waitFor] },
        );
        this.registerOutputs({ controller: args.controller.name });
    }
}
