import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as YAML from "yaml";
import { HostConfig, SecretValue, UNDECRYPTED_SECRET } from "../../../config";
import { MonitoringConfig } from "../../../config/workstation";
import { Host } from "../host";
import { fileText, retainStep, scriptStep, stepOptions, StepEnv } from "../../steps";
import { Ready, readyOn } from "../ready";
import {
    alertmanagerDropin,
    dcgmUnit,
    firewallRules,
    firewallUnit,
    grafanaDropin,
    hostPort,
    listenAddress,
    localUrl,
    nodeExporterDropin,
    prometheusDropin,
} from "./render";

export * from "./render";

const SCRIPTS = `${__dirname}/scripts`;
const TEMPLATES = `${__dirname}/templates`;

export const DATASOURCE_UID = "aihpc-prometheus";

export function template(rel: string): string {
    return fs.readFileSync(path.join(TEMPLATES, rel), "utf8");
}

/** The alert rules file, as shipped (validated by promtool on the controller). */
export function alertRules(): string {
    return template("rules/aihpc.rules.yml");
}

/** Grafana dashboards by file name, as shipped in templates/grafana/dashboards. */
export function dashboards(): Record<string, string> {
    const dir = path.join(TEMPLATES, "grafana", "dashboards");
    return Object.fromEntries(
        fs
            .readdirSync(dir)
            .filter((f) => f.endsWith(".json"))
            .sort()
            .map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]),
    );
}

/** The data source: Prometheus where it listens on the controller (`localUrl`). */
export function grafanaDatasource(m: MonitoringConfig, prometheusListen = "127.0.0.1"): string {
    return template("grafana/datasource.yaml")
        .replace(/\{\{PROMETHEUS_URL\}\}/g, localUrl(prometheusListen, m.prometheus.port, ""))
        .replace(/\{\{SCRAPE_INTERVAL\}\}/g, m.prometheus.scrapeInterval);
}

/** The GPU dashboard: shipped only where a host has GPUs (templates/grafana/gpu). */
export function gpuDashboards(): Record<string, string> {
    return { "gpu.json": template("grafana/gpu/gpu.json") };
}

/** Data-centre GPUs, which NVIDIA's dcgm-exporter is made for (by the name nvidia-smi prints). */
const DATA_CENTRE = /\b(A2|A10|A16|A30|A40|A100|A800|H20|H100|H200|H800|GH200|B100|B200|GB200|L4|L20|L40S?|T4|V100|P100)\b/i;

export function isDataCentreGpu(model: string): boolean {
    return !/\b(RTX|GeForce|Quadro|TITAN)\b/i.test(model) && DATA_CENTRE.test(model);
}

export type GpuExporterMode = "dcgm" | "nvidia-smi";

/**
 * `auto`: dcgm-exporter for a configured data-centre model when containers can run it and its image is pinned by
 * digest (dcgmExporter.image), else the nvidia-smi collector. `dcgm` requires the image (config/schema.ts).
 */
export function gpuExporterMode(m: MonitoringConfig, host: HostConfig, dockerWithNvidia: boolean): GpuExporterMode {
    // An explicit 'dcgm' has its image (monitoring/problems.ts).
    if (m.gpuExporter !== "auto") return m.gpuExporter;
    return dockerWithNvidia && m.dcgmExporter.image !== undefined && host.gpus.model !== undefined && isDataCentreGpu(host.gpus.model) ? "dcgm" : "nvidia-smi";
}

/** Where Prometheus reaches a host's node exporter. */
export function scrapeAddress(h: HostConfig, transport: "ssh" | "local"): string {
    return transport === "local" ? "127.0.0.1" : h.address ?? h.name;
}

/** prometheus.yml: the node exporters of all hosts (instance = host name), Prometheus (where it listens), Alertmanager (loopback). */
export function prometheusConfig(
    m: MonitoringConfig,
    hosts: { name: string; address: string }[],
    dcgmHosts: { name: string; address: string }[] = [],
    prometheusListen = "127.0.0.1",
): string {
    const cfg: Record<string, unknown> = {
        global: { scrape_interval: m.prometheus.scrapeInterval, evaluation_interval: m.prometheus.scrapeInterval },
        rule_files: ["/etc/prometheus/rules/*.yml"],
        ...(m.alertmanager.enabled ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${m.alertmanager.port}`] }] }] } } : {}),
        scrape_configs: [
            { job_name: "prometheus", static_configs: [{ targets: [hostPort(prometheusListen || "127.0.0.1", m.prometheus.port)], labels: { instance: "prometheus" } }] },
            {
                job_name: "node",
                static_configs: hosts.map((h) => ({ targets: [`${h.address}:${m.nodeExporterPort}`], labels: { instance: h.name } })),
            },
            ...(dcgmHosts.length
                ? [{ job_name: "dcgm", static_configs: dcgmHosts.map((h) => ({ targets: [`${h.address}:${m.dcgmExporter.port}`], labels: { instance: h.name } })) }]
                : []),
            ...(m.alertmanager.enabled
                ? [{ job_name: "alertmanager", static_configs: [{ targets: [`127.0.0.1:${m.alertmanager.port}`], labels: { instance: "alertmanager" } }] }]
                : []),
        ],
    };
    return `# Managed by aihpc (Pulumi): workstation.monitoring and the host list.\n${YAML.stringify(cfg)}`;
}

/** The webhook's token or password (aihpc:alertWebhookSecret): 0600, owned by the user Alertmanager runs as. */
export const ALERT_WEBHOOK_SECRET_FILE = "/etc/prometheus/alertmanager-webhook.secret";

/**
 * alertmanager.yml. Credentials never appear in it: the webhook authenticates
 * with a bearer token or basic-auth password read from ALERT_WEBHOOK_SECRET_FILE
 * (`credentials_file`, `password_file`; Debian 12's Alertmanager 0.25 has no `url_file`).
 */
export function alertmanagerConfig(m: MonitoringConfig): string {
    const am = m.alertmanager;
    const auth =
        am.webhookAuth === "bearer"
            ? { http_config: { authorization: { type: "Bearer", credentials_file: ALERT_WEBHOOK_SECRET_FILE } } }
            : am.webhookAuth === "basic"
              ? { http_config: { basic_auth: { username: am.webhookUser, password_file: ALERT_WEBHOOK_SECRET_FILE } } }
              : {};
    const cfg = {
        route: { receiver: "default", group_by: ["alertname", "instance"], group_wait: "30s", group_interval: "5m", repeat_interval: "4h" },
        receivers: [{ name: "default", ...(am.webhookUrl ? { webhook_configs: [{ url: am.webhookUrl, send_resolved: true, ...auth }] } : {}) }],
    };
    return `# Managed by aihpc (Pulumi): workstation.monitoring.alertmanager.\n${YAML.stringify(cfg)}`;
}

/** Dashboard files by name, as the grafana-config step installs them (from the step bundle). */
export function dashboardFiles(gpu: boolean): Record<string, string> {
    const files: Record<string, string> = {};
    for (const f of Object.keys(dashboards())) files[f] = path.join(TEMPLATES, "grafana", "dashboards", f);
    if (gpu) files["gpu.json"] = path.join(TEMPLATES, "grafana", "gpu", "gpu.json");
    return files;
}

/**
 * What a host's firewall admits to which ports: the exporters everywhere (dcgm-exporter's
 * published port through the forward hook), and on the controller Prometheus and Grafana;
 * from every host of the cluster and workstation.monitoring.firewall.adminNetworks.
 * Alertmanager listens on loopback only, which the firewall always admits.
 */
export function firewallArgs(
    m: MonitoringConfig,
    host: { config: HostConfig },
    hosts: { config: HostConfig }[],
    transport: "ssh" | "local",
    gpuMode: GpuExporterMode | undefined,
    isController: boolean,
) {
    const ports = [m.nodeExporterPort];
    if (isController) ports.push(m.prometheus.port, ...(m.grafana.enabled ? [m.grafana.port] : []));
    const cluster = transport === "local" ? [] : hosts.map((h) => h.config.address).filter((a): a is string => a !== undefined);
    return {
        ports,
        publishedPorts: gpuMode === "dcgm" ? [m.dcgmExporter.port] : [],
        allowed: [...new Set([...cluster, ...m.firewall.adminNetworks])],
    };
}

export interface MonitoringArgs {
    hosts: Host[];
    /** The host with role 'controller': Prometheus, Alertmanager and Grafana run there. */
    controller: Host;
    transport: "ssh" | "local";
    config: MonitoringConfig;
    /** aihpc:alertWebhookSecret, with alertmanager.webhookAuth `bearer` or `basic` (the schema pairs them). */
    alertWebhookSecret?: SecretValue;
    /** The base system in place on each host (see Workstation.baseReady), where the stack manages it. */
    baseReady?: Ready;
    /** With Slurm: slurmctld configured on the controller, which the metrics collector waits for. */
    slurmControllerReady?: pulumi.Resource;
    /** GPU hosts whose driver the stack installs (verified): they get a GPU exporter, after it. */
    gpuReady?: Ready;
    /** GPU hosts whose Docker hands GPUs to containers: there dcgm-exporter can run as a container. */
    gpuContainersReady?: Ready;
}

/**
 * Node exporter on every host; Prometheus (+ rules), Alertmanager, the Slurm
 * metrics collector and Grafana on the controller. One step per concern.
 */
export class Monitoring extends pulumi.ComponentResource {
    public readonly steps: Record<string, Record<string, pulumi.Resource>>;
    public readonly grafanaAdminPassword?: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Monitoring", name, {}, opts);
        const m = args.config;
        const webhookSecret =
            m.alertmanager.webhookAuth !== "none" && args.alertWebhookSecret ? pulumi.secret(args.alertWebhookSecret.value ?? UNDECRYPTED_SECRET) : undefined;
        const controller = args.controller;
        this.steps = {};
        const gpuHosts = args.hosts.filter((h) => args.gpuReady?.[h.name] !== undefined);
        const modes = new Map(gpuHosts.map((h) => [h.name, gpuExporterMode(m, h.config, args.gpuContainersReady?.[h.name] !== undefined)]));
        const ordered = [controller, ...args.hosts.filter((h) => h !== controller)];
        for (const h of ordered) {
            const t = h.transport;
            const n = `${name}-${h.name}`;
            const after = stepOptions(this, h, readyOn(h.name, args.baseReady));
            const retain = retainStep(`${n}-retain`, t, "monitoring", m.retain, after());
            const listen = listenAddress(h.config, args.transport);
            // The firewall first: no monitoring port of this host answers outside the cluster, even briefly.
            const steps: Record<string, pulumi.Resource> = { retain };
            let guard: pulumi.Resource[] = [];
            if (m.firewall.enabled) {
                steps.firewall = scriptStep(
                    `${n}-firewall`,
                    t,
                    { dir: SCRIPTS, file: "firewall.sh", env: {}, files: { RULES: fileText(firewallRules(firewallArgs(m, h, args.hosts, args.transport, modes.get(h.name), h === controller))), UNIT: fileText(firewallUnit()) } },
                    after(retain),
                );
                guard = [steps.firewall];
            }
            const nodeExporter = scriptStep(
                `${n}-node-exporter`,
                t,
                { dir: SCRIPTS, file: "node-exporter.sh", env: { URL: localUrl(listen, m.nodeExporterPort, "/metrics") }, files: { DROPIN: fileText(nodeExporterDropin(listen, m.nodeExporterPort)) } },
                after(retain, ...guard),
            );
            steps.nodeExporter = nodeExporter;
            const mode = modes.get(h.name);
            if (mode) {
                // 'dcgm' comes with its image (gpuExporterMode, monitoring/problems.ts).
                const dcgmImage = mode === "dcgm" ? m.dcgmExporter.image : undefined;
                const env: StepEnv =
                    dcgmImage !== undefined ? { MODE: "dcgm", INTERVAL: m.prometheus.scrapeInterval, IMAGE: dcgmImage } : { MODE: "nvidia-smi", INTERVAL: m.prometheus.scrapeInterval };
                const bundled = dcgmImage !== undefined ? undefined : { COLLECTOR: path.join(SCRIPTS, "gpu-metrics.sh") };
                steps.gpuExporter = scriptStep(
                    `${n}-gpu-exporter`,
                    t,
                    {
                        dir: SCRIPTS,
                        file: "gpu-exporter.sh",
                        env,
                        bundled,
                        ...(dcgmImage !== undefined ? { files: { DCGM_UNIT: fileText(dcgmUnit(dcgmImage, listen, m.dcgmExporter.port)) } } : {}),
                    },
                    after(nodeExporter, ...readyOn(h.name, args.gpuReady, mode === "dcgm" ? args.gpuContainersReady : undefined)),
                );
            }
            if (h === controller) {
                const targets = args.hosts.map((x) => ({ name: x.name, address: scrapeAddress(x.config, args.transport) }));
                const dcgmTargets = targets.filter((x) => modes.get(x.name) === "dcgm");
                const prometheus = scriptStep(
                    `${n}-prometheus`,
                    t,
                    {
                        dir: SCRIPTS,
                        file: "prometheus.sh",
                        env: { READY_URL: localUrl(listen, m.prometheus.port, "/-/ready") },
                        files: {
                            PROMETHEUS_YML: fileText(prometheusConfig(m, targets, dcgmTargets, listen)),
                            DROPIN: fileText(prometheusDropin(listen, m.prometheus.port, m.prometheus.retentionDays)),
                        },
                    },
                    after(retain, ...guard),
                );
                steps.prometheus = prometheus;
                steps.rules = scriptStep(`${n}-rules`, t, { dir: SCRIPTS, file: "rules.sh", env: {}, bundled: { RULES: path.join(TEMPLATES, "rules", "aihpc.rules.yml") } }, after(prometheus));
                if (m.alertmanager.enabled) {
                    steps.alertmanager = scriptStep(
                        `${n}-alertmanager`,
                        t,
                        {
                            dir: SCRIPTS,
                            file: "alertmanager.sh",
                            env: { READY_URL: localUrl("127.0.0.1", m.alertmanager.port, "/-/ready"), WEBHOOK_SECRET: webhookSecret ? 1 : 0 },
                            files: { ALERTMANAGER_YML: fileText(alertmanagerConfig(m)), DROPIN: fileText(alertmanagerDropin(m.alertmanager.port)) },
                            // aihpc:alertWebhookSecret: on stdin only (never in the command), a secret in state.
                            stdin: webhookSecret,
                        },
                        after(retain, ...guard),
                    );
                }
                if (args.slurmControllerReady) {
                    steps.slurmMetrics = scriptStep(
                        `${n}-slurm-metrics`,
                        t,
                        {
                            dir: SCRIPTS,
                            file: "slurm-metrics-install.sh",
                            env: { INTERVAL: m.prometheus.scrapeInterval },
                            bundled: { COLLECTOR: path.join(SCRIPTS, "slurm-metrics.sh") },
                        },
                        after(nodeExporter, args.slurmControllerReady),
                    );
                }
                if (m.grafana.enabled) {
                    const grafana = scriptStep(
                        `${n}-grafana`,
                        t,
                        {
                            dir: SCRIPTS,
                            file: "grafana.sh",
                            // The key comes through apt's downloader: the apt-proxy step's settings (and credentials) apply.
                            env: { REPO: m.grafana.aptRepository, VERSION: m.grafana.version, FINGERPRINTS: m.grafana.keyFingerprints.join(" "), KEY_SHA256: m.grafana.keySha256 ?? "" },
                        },
                        after(retain),
                    );
                    const password = new random.RandomPassword(`${name}-grafana-admin`, { length: 24, special: false }, { parent: this });
                    this.grafanaAdminPassword = pulumi.secret(password.result);
                    const cfg = {
                        env: {},
                        files: { DATASOURCE: fileText(grafanaDatasource(m, listen)), DROPIN: fileText(grafanaDropin(listen, m.grafana.port)) },
                        bundled: { DASHBOARD_PROVIDER: path.join(TEMPLATES, "grafana", "dashboards.yaml") },
                        sets: { DASHBOARDS: dashboardFiles(gpuHosts.length > 0) },
                    };
                    steps.grafana = grafana;
                    steps.grafanaConfig = scriptStep(
                        `${n}-grafana-config`,
                        t,
                        { dir: SCRIPTS, file: "grafana-config.sh", ...cfg, stdin: this.grafanaAdminPassword },
                        after(grafana, steps.prometheus, ...guard),
                    );
                }
            }
            this.steps[h.name] = steps;
        }
        this.registerOutputs({});
    }
}
