import * as crypto from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { scriptStep } from "../../steps";
import { Host } from "../../workstation/host";

const SCRIPTS = `${__dirname}/scripts`;

/** The settings file of the power-save programs (scripts/aihpc-cloud-nodes). */
export const CLOUD_NODES_CONFIG = "/etc/aihpc/cloud-nodes.json";

export interface CloudNodeSettings {
    project: string;
    zones: string[];
    /** The instance template's self link. */
    template: string;
    nodePrefix: string;
    partition: string;
    backoffSeconds: number;
    /** `gce`; `testbed` only in the project's own test stacks (config/cloud-nodes.ts). */
    backend: "gce" | "testbed";
    /** The stand-in compute API of backend `testbed`. */
    testbedApi?: string;
}

/** /etc/aihpc/cloud-nodes.json: what the programs read (no secret: the token comes from the workstation's credential). */
export function cloudNodesConfigText(s: CloudNodeSettings): string {
    return JSON.stringify(
        {
            backend: s.backend,
            ...(s.backend === "testbed" ? { testbedApi: s.testbedApi } : {}),
            project: s.project,
            zones: s.zones,
            template: s.template,
            nodePrefix: s.nodePrefix,
            partition: s.partition,
            backoffSeconds: s.backoffSeconds,
            orphanGraceSeconds: 600,
            stateDir: "/var/lib/aihpc/cloud-nodes",
            // SlurmUser's own file; the reconciler unit publishes it to the node exporter's textfile directory.
            metricsFile: CLOUD_METRICS_FILE,
            // SlurmUser's copy of the workstation's credential (scripts/cloud-nodes.sh).
            credentialFile: "/var/lib/aihpc/cloud-nodes-gcp/credentials.json",
        },
        null,
        2,
    );
}

/** Where the programs (as SlurmUser) write their metrics. */
export const CLOUD_METRICS_FILE = "/var/lib/aihpc/cloud-nodes/aihpc_cloud_nodes.prom";
/** The node exporter's textfile directory (owned by its package's user, so SlurmUser cannot write there). */
export const TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";

/** The reconciler's systemd units (run as SlurmUser, like the programs slurmctld runs). */
export function reconcilerUnits(interval: string): { service: string; timer: string } {
    return {
        service: [
            "# Managed by aihpc (gcp.cloudNodes)",
            "[Unit]",
            "Description=aihpc: delete cloud nodes Slurm does not account for, return nodes after their back-off",
            "After=slurmctld.service",
            "",
            "[Service]",
            "Type=oneshot",
            "User=slurm",
            "ExecStart=/usr/local/sbin/aihpc-cloud-nodes reconcile",
            // As root ('+'), after every run, failed ones too: the metrics into the node exporter's directory, whole
            // (the collector never reads a half-written file); nothing where no node exporter is installed.
            `ExecStopPost=+/bin/sh -c 'test -d ${TEXTFILE_DIR} && test -f ${CLOUD_METRICS_FILE} || exit 0; install -m 0644 ${CLOUD_METRICS_FILE} ${TEXTFILE_DIR}/.aihpc_cloud_nodes.prom.tmp && mv -f ${TEXTFILE_DIR}/.aihpc_cloud_nodes.prom.tmp ${TEXTFILE_DIR}/aihpc_cloud_nodes.prom'`,
        ].join("\n"),
        timer: [
            "# Managed by aihpc (gcp.cloudNodes)",
            "[Unit]",
            `Description=aihpc: cloud node reconciler every ${interval}`,
            "",
            "[Timer]",
            "OnBootSec=2min",
            `OnUnitActiveSec=${interval}`,
            "",
            "[Install]",
            "WantedBy=timers.target",
        ].join("\n"),
    };
}

export interface CloudPartitionArgs {
    controller: Host;
    settings: pulumi.Input<CloudNodeSettings>;
    partition: string;
    /** The workstation's credential: root's set (copied for SlurmUser) and the certificate, whose renewal re-runs the step. */
    credential: { dir: string; certPem: pulumi.Input<string> };
    /** How often the reconciler runs (systemd time span). */
    interval?: string;
    /**
     * What the programs need and what must outlive every cloud node: the
     * template, the roles and their grants, the firewall, the identities and
     * the controller's credential and Slurm steps. On destroy this step goes
     * first: it drains the partition and deletes every instance.
     */
    waitFor: pulumi.Input<pulumi.Resource>[];
}

/**
 * The controller's side of the cloud partition: the power-save programs,
 * their settings and the reconciler timer; on destroy, drain and delete every
 * cloud node before the Google Cloud side goes (teardown order by graph edge).
 */
export class CloudPartition extends pulumi.ComponentResource {
    public readonly step: pulumi.Resource;

    constructor(name: string, args: CloudPartitionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:hybrid:CloudPartition", name, {}, opts);
        const p = (f: string) => path.join(SCRIPTS, f);
        this.step = scriptStep(
            `${name}-${args.controller.name}`,
            args.controller.transport,
            {
                dir: SCRIPTS,
                file: "cloud-nodes.sh",
                env: pulumi.output(args.credential.certPem).apply((pem) => ({
                    CERT_DIR: args.credential.dir,
                    CERT_SHA256: crypto.createHash("sha256").update(`${pem.trim()}\n`).digest("hex"),
                })),
                files: pulumi.output(args.settings).apply((s) => {
                    const units = reconcilerUnits(args.interval ?? "5min");
                    return { CLOUD_CONFIG: cloudNodesConfigText(s), CLOUD_SERVICE: units.service, CLOUD_TIMER: units.timer };
                }),
                deleteEnv: { PARTITION: args.partition },
                bundled: { CLOUD_PROGRAM: p("aihpc-cloud-nodes"), CLOUD_RESUME: p("aihpc-cloud-resume"), CLOUD_SUSPEND: p("aihpc-cloud-suspend"), CLOUD_RESUME_FAIL: p("aihpc-cloud-resume-fail") },
            },
            { parent: this, dependsOn: [args.controller.ready, ...args.waitFor] },
        );
        this.registerOutputs({ controller: args.controller.name, config: CLOUD_NODES_CONFIG });
    }
}
