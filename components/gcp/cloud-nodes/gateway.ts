import * as fs from "fs";
import * as path from "path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { CloudNodesConfig, controllerTunnelAddress, gatewayTunnelAddress } from "../../../config/cloud-nodes";
import { gatewayWgConf } from "../../hybrid/cloud-nodes/wireguard";
import { GcpContext } from "../context";

/** The gateway's startup script: key from Secret Manager, configuration from metadata, forwarding, wg-quick. */
export const GATEWAY_BOOTSTRAP = path.join(__dirname, "scripts", "gateway-bootstrap.sh");
/** Network tag of the gateway: its firewall rules target it. */
export const GATEWAY_TAG = "aihpc-tunnel-gateway";
/** Debian 12, as everywhere else in the stack: wireguard-tools from the same archive as the workstation's. */
export const GATEWAY_IMAGE = "projects/debian-cloud/global/images/family/debian-12";

export interface TunnelGatewayArgs {
    ctx: GcpContext;
    config: CloudNodesConfig;
    /** The gateway's zone (gcp.zone). */
    zone: string;
    network: pulumi.Input<string>;
    subnet: pulumi.Input<string>;
    /** The gateway's own service account (identity `cnGateway`): logs, and its key secret only. */
    serviceAccountEmail: pulumi.Input<string>;
    /** The secret holding the gateway's private key (`projects/P/secrets/S`). */
    keySecret: pulumi.Input<string>;
    /** Derived in the graph from the private key (never the key itself). */
    gatewayPublicKey: pulumi.Input<string>;
    /** The controller's public key, as its key step printed it. */
    controllerPublicKey: pulumi.Input<string>;
    /** Cloud nodes' network tag: only they use the route, only they may send through the gateway. */
    nodeTag: string;
    /** What nodes open toward the controller: slurmctld's port and srun's ports. */
    slurmctldPort: number;
}

/**
 * The tunnel's far end in the stack's VPC (gcp.cloudNodes.tunnel): a small
 * Debian 12 VM with the stack's only public IP (static), forwarding between
 * WireGuard and the VPC; a route that sends the tunnel's range from cloud
 * nodes to it; firewall rules that admit the tunnel's UDP port from the
 * workstation's egress address only, and from cloud nodes only Slurm's ports
 * toward the controller. The private key is a secret in Secret Manager that
 * only the gateway's own account reads; the controller's key never leaves
 * the workstation.
 */
export class TunnelGateway extends pulumi.ComponentResource {
    public readonly instance: gcp.compute.Instance;
    public readonly address: gcp.compute.Address;
    public readonly route: gcp.compute.Route;
    public readonly firewalls: gcp.compute.Firewall[];
    /** `<static IP>:<port>`: where the controller dials. */
    public readonly endpoint: pulumi.Output<string>;

    constructor(name: string, args: TunnelGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:TunnelGateway", name, {}, opts);
        const { ctx, config: c } = args;
        const t = c.tunnel;
        const n = ctx.naming;
        const labels = { ...ctx.labels, role: "tunnel-gateway" };
        const child: pulumi.CustomResourceOptions = { parent: this, dependsOn: opts?.dependsOn };

        this.address = new gcp.compute.Address(
            `${name}-ip`,
            { project: ctx.project, region: ctx.region, name: n.name("wg-gw-ip"), addressType: "EXTERNAL", networkTier: "PREMIUM", description: "aihpc: the tunnel gateway's public address (gcp.cloudNodes.tunnel)", labels },
            child,
        );
        this.endpoint = pulumi.interpolate`${this.address.address}:${t.port}`;
        const conf = pulumi.output(args.controllerPublicKey).apply((controllerPublicKey) =>
            gatewayWgConf({ iface: t.interface, address: gatewayTunnelAddress(c), port: t.port, controllerPublicKey, controllerAddress: controllerTunnelAddress(c) }),
        );
        this.instance = new gcp.compute.Instance(
            `${name}-vm`,
            {
                project: ctx.project,
                zone: args.zone,
                // Not the cloud nodes' prefix: the reconciler deletes unknown instances with that prefix, and the controller's
                // launcher role may delete only those.
                name: n.name("wg-gw"),
                description: "aihpc: WireGuard gateway between the workstation's Slurm controller and the cloud nodes",
                machineType: t.machineType,
                bootDisk: { autoDelete: true, initializeParams: { image: GATEWAY_IMAGE, size: 10, type: "pd-balanced", labels } },
                // It forwards packets of other addresses (the controller's tunnel address, the nodes').
                canIpForward: true,
                networkInterfaces: [{ network: args.network, subnetwork: args.subnet, accessConfigs: [{ natIp: this.address.address, networkTier: "PREMIUM" }] }],
                // Secret Manager takes only the cloud-platform scope; the account's IAM is the limit: logs, and this one secret.
                serviceAccount: { email: args.serviceAccountEmail, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
                // Debian's signed kernel carries WireGuard: Secure Boot stays on.
                shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
                scheduling: { provisioningModel: "STANDARD", preemptible: false, automaticRestart: true, onHostMaintenance: "MIGRATE" },
                tags: [GATEWAY_TAG],
                labels,
                metadata: {
                    "startup-script": fs.readFileSync(GATEWAY_BOOTSTRAP, "utf8"),
                    "aihpc-wg-interface": t.interface,
                    "aihpc-wg-conf": conf,
                    "aihpc-wg-key-secret": args.keySecret,
                    "enable-oslogin": "TRUE",
                    "block-project-ssh-keys": "TRUE",
                },
                allowStoppingForUpdate: true,
            },
            // The startup script reads its settings at boot only: a new configuration (the controller's key after its
            // host was rebuilt, a new port) takes a new gateway, which boots with it. Its name is fixed: delete first.
            { ...child, replaceOnChanges: ['metadata["aihpc-wg-conf"]', 'metadata["startup-script"]'], deleteBeforeReplace: true },
        );
        this.route = new gcp.compute.Route(
            `${name}-route`,
            {
                project: ctx.project,
                name: n.name("wg-route"),
                // Names the instance's id: a route is immutable, so a new gateway gets a new route to it.
                description: pulumi.interpolate`aihpc: the tunnel's addresses (the Slurm controller) through the gateway (instance ${this.instance.instanceId})`,
                network: args.network,
                destRange: c.tunnelCidr,
                nextHopInstance: this.instance.selfLink,
                nextHopInstanceZone: args.zone,
                priority: 900,
                // Only cloud nodes use it: nothing else in the VPC reaches the workstation.
                tags: [args.nodeTag],
            },
            child,
        );
        const [lo, hi] = c.srunPortRange.split("-");
        const rule = (id: string, extra: Partial<gcp.compute.FirewallArgs>) =>
            new gcp.compute.Firewall(
                `${name}-${id}`,
                { project: ctx.project, name: n.name(id), network: args.network, direction: "INGRESS", priority: 1000, targetTags: [GATEWAY_TAG], logConfig: { metadata: "INCLUDE_ALL_METADATA" }, ...extra },
                child,
            );
        this.firewalls = [
            // The one port open to the internet, and only to the workstation's egress address.
            rule("wg-gw-udp", { description: "aihpc: WireGuard from the workstation's egress address", sourceRanges: [t.workstationEgressCidr!], allows: [{ protocol: "udp", ports: [String(t.port)] }] }),
            // Cloud nodes to the controller through the gateway: slurmctld, and srun's ports (srun on the workstation).
            rule("wg-gw-fwd", {
                description: "aihpc: Slurm from cloud nodes to the controller, through the gateway",
                sourceTags: [args.nodeTag],
                allows: [{ protocol: "tcp", ports: [String(args.slurmctldPort), `${lo}-${hi}`] }],
            }),
        ];
        this.registerOutputs({ endpoint: this.endpoint, instance: this.instance.selfLink, publicKey: args.gatewayPublicKey });
    }
}
