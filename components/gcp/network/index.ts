import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GcpContext } from "../context";

export interface NetworkArgs {
    ctx: GcpContext;
    subnetCidr: string;
    flowLogs: boolean;
}

/** Google's range for IAP TCP forwarding: the only way in to an instance without a public IP. */
export const IAP_RANGE = "35.235.240.0/20";
/** Network tag that opens SSH from IAP. */
export const IAP_SSH_TAG = "iap-ssh";

/**
 * A VPC for private Vertex resources: one regional subnet with Private Google
 * Access (Google APIs without public IPs), Cloud Router + NAT for outbound
 * package downloads, and a minimal firewall: SSH only through IAP to tagged
 * instances, every other ingress denied and logged.
 */
export class Network extends pulumi.ComponentResource {
    public readonly network: gcp.compute.Network;
    public readonly subnet: gcp.compute.Subnetwork;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:Network", name, {}, opts);
        const { ctx } = args;
        const n = ctx.naming;
        this.network = new gcp.compute.Network(
            `${name}-vpc`,
            { project: ctx.project, name: n.name("vpc"), autoCreateSubnetworks: false, routingMode: "REGIONAL", description: "aihpc: private Vertex resources" },
            { parent: this },
        );
        this.subnet = new gcp.compute.Subnetwork(
            `${name}-subnet`,
            {
                project: ctx.project,
                name: n.name("subnet"),
                region: ctx.region,
                network: this.network.id,
                ipCidrRange: args.subnetCidr,
                privateIpGoogleAccess: true,
                stackType: "IPV4_ONLY",
                logConfig: args.flowLogs ? { aggregationInterval: "INTERVAL_10_MIN", flowSampling: 0.1, metadata: "INCLUDE_ALL_METADATA" } : undefined,
            },
            { parent: this },
        );
        const router = new gcp.compute.Router(
            `${name}-router`,
            { project: ctx.project, name: n.name("router"), region: ctx.region, network: this.network.id },
            { parent: this },
        );
        new gcp.compute.RouterNat(
            `${name}-nat`,
            {
                project: ctx.project,
                name: n.name("nat"),
                region: ctx.region,
                router: router.name,
                natIpAllocateOption: "AUTO_ONLY",
                sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS",
                subnetworks: [{ name: this.subnet.id, sourceIpRangesToNats: ["ALL_IP_RANGES"] }],
                logConfig: { enable: true, filter: "ERRORS_ONLY" },
            },
            { parent: this },
        );
        new gcp.compute.Firewall(
            `${name}-allow-iap-ssh`,
            {
                project: ctx.project,
                name: n.name("allow-iap-ssh"),
                network: this.network.id,
                direction: "INGRESS",
                priority: 1000,
                sourceRanges: [IAP_RANGE],
                targetTags: [IAP_SSH_TAG],
                allows: [{ protocol: "tcp", ports: ["22"] }],
                logConfig: { metadata: "INCLUDE_ALL_METADATA" },
            },
            { parent: this },
        );
        new gcp.compute.Firewall(
            `${name}-deny-ingress`,
            {
                project: ctx.project,
                name: n.name("deny-ingress"),
                network: this.network.id,
                direction: "INGRESS",
                priority: 65534,
                sourceRanges: ["0.0.0.0/0"],
                denies: [{ protocol: "all" }],
                logConfig: { metadata: "EXCLUDE_ALL_METADATA" },
            },
            { parent: this },
        );
        this.registerOutputs({ network: this.network.selfLink, subnet: this.subnet.selfLink });
    }
}
