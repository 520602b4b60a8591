import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GcpConfig } from "../../../config";
import { GcpContext } from "../context";
import { IAP_SSH_TAG } from "../network";

export interface WorkbenchArgs {
    ctx: GcpContext;
    config: GcpConfig["vertex"]["workbench"];
    serviceAccountEmail: pulumi.Input<string>;
    network: pulumi.Input<string>;
    subnet: pulumi.Input<string>;
}

/**
 * Metadata keys the Workbench service writes on the instance. Terraform's
 * provider suppresses their diffs (magic-modules WorkbenchInstanceProvidedMetadata);
 * ignore them here too, or every `up` shows a change that removes them.
 */
export const SERVER_METADATA_KEYS = [
    "resource-url",
    "proxy-url",
    "proxy-mode",
    "proxy-backend-id",
    "proxy-registration-url",
    "new-proxy-agent-enabled",
    "framework",
    "title",
    "version",
    "version-description",
    "notebooks-api",
    "notebooks-api-version",
    "image-url",
];

/**
 * A Vertex AI Workbench instance for interactive work: no public IP (outbound
 * through Cloud NAT, JupyterLab through Google's proxy), shielded VM, its own
 * service account, shuts down when idle, optional GPU, deletion protection.
 */
export class Workbench extends pulumi.ComponentResource {
    public readonly instance: gcp.workbench.Instance;

    constructor(name: string, args: WorkbenchArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:Workbench", name, {}, opts);
        const { ctx, config: c } = args;
        const metadata: Record<string, string> = {
            "idle-timeout-seconds": String(c.idleTimeoutSeconds),
            "notebook-disable-root": String(!c.rootAccess),
            "notebook-disable-downloads": String(!c.fileDownloads),
            "notebook-disable-terminal": "false",
            "report-event-health": "true",
        };
        if (c.accelerator) metadata["install-nvidia-driver"] = "true";
        this.instance = new gcp.workbench.Instance(
            `${name}-instance`,
            {
                project: ctx.project,
                location: ctx.zone,
                name: ctx.naming.name("workbench"),
                enableDeletionProtection: c.deletionProtection,
                disableProxyAccess: false,
                labels: ctx.labels,
                gceSetup: {
                    machineType: c.machineType,
                    acceleratorConfigs: c.accelerator ? [{ type: c.accelerator.type, coreCount: String(c.accelerator.count) }] : undefined,
                    disablePublicIp: true,
                    enableIpForwarding: false,
                    shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
                    serviceAccounts: [{ email: args.serviceAccountEmail }],
                    networkInterfaces: [{ network: args.network, subnet: args.subnet, nicType: "GVNIC" }],
                    bootDisk: { diskType: "PD_BALANCED", diskSizeGb: "150" },
                    tags: [IAP_SSH_TAG],
                    metadata,
                },
            },
            { parent: this, ignoreChanges: SERVER_METADATA_KEYS.map((k) => `gceSetup.metadata["${k}"]`) },
        );
        this.registerOutputs({ name: this.instance.name, proxyUri: this.instance.proxyUri });
    }
}
