// Files the monitoring steps install, rendered here (pure, unit-tested) and
// passed to the steps as `files`: the scripts only compare, install and
// restart. Where each service listens and who may reach it is decided here.
import { isIP } from "net";
import { HostConfig } from "../../../config";

/**
 * The address a host's monitoring services listen on: the host's cluster
 * address when the config gives it as an IP (Prometheus reaches the exporters
 * there), 127.0.0.1 when Pulumi runs on the host itself (transport local), and
 * every address ("") when the config names the host by DNS name; the host
 * firewall (firewallRules) admits only the cluster and the admin networks in
 * every case.
 */
export function listenAddress(h: HostConfig, transport: "ssh" | "local"): string {
    if (transport === "local") return "127.0.0.1";
    return h.address !== undefined && isIP(h.address) !== 0 ? h.address : "";
}

/** `addr:port` as Go's and curl's parsers take it (IPv6 in brackets, "" for every address). */
export function hostPort(addr: string, port: number): string {
    return `${isIP(addr) === 6 ? `[${addr}]` : addr}:${port}`;
}

/** Where a step on the same host checks a service it started. */
export function localUrl(listen: string, port: number, path: string): string {
    return `http://${hostPort(listen || "127.0.0.1", port)}${path}`;
}

const header = (setting: string) => `# Managed by aihpc (workstation.monitoring${setting})`;

export function nodeExporterDropin(listen: string, port: number): string {
    return [
        header(".nodeExporterPort"),
        "[Service]",
        "ExecStart=",
        `ExecStart=/usr/bin/prometheus-node-exporter --web.listen-address=${hostPort(listen, port)} --collector.textfile.directory=/var/lib/prometheus/node-exporter`,
    ].join("\n");
}

export function prometheusDropin(listen: string, port: number, retentionDays: number): string {
    return [
        header(".prometheus"),
        "[Service]",
        "ExecStart=",
        `ExecStart=/usr/bin/prometheus --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/var/lib/prometheus/metrics2/ --storage.tsdb.retention.time=${retentionDays}d --web.listen-address=${hostPort(listen, port)}`,
    ].join("\n");
}

/** Alertmanager: only Prometheus on the same host talks to it, so loopback only; clustering (gossip on 9094, all interfaces by default) off. */
export function alertmanagerDropin(port: number): string {
    return [
        header(".alertmanager"),
        "[Service]",
        "ExecStart=",
        `ExecStart=/usr/bin/prometheus-alertmanager --config.file=/etc/prometheus/alertmanager.yml --storage.path=/var/lib/prometheus/alertmanager/ --web.listen-address=${hostPort("127.0.0.1", port)} --cluster.listen-address=`,
    ].join("\n");
}

export const GRAFANA_ENV_FILE = "/etc/grafana/aihpc.env";

/** Grafana: its address and port, no anonymous access, no sign-up; the admin password comes from GRAFANA_ENV_FILE (0600, from the stack). */
export function grafanaDropin(listen: string, port: number): string {
    return [
        header(".grafana"),
        "[Service]",
        `EnvironmentFile=${GRAFANA_ENV_FILE}`,
        `Environment=GF_SERVER_HTTP_ADDR=${listen}`,
        `Environment=GF_SERVER_HTTP_PORT=${port}`,
        "Environment=GF_AUTH_ANONYMOUS_ENABLED=false",
        "Environment=GF_USERS_ALLOW_SIGN_UP=false",
        "Environment=GF_USERS_ALLOW_ORG_CREATE=false",
        "Environment=GF_SNAPSHOTS_EXTERNAL_ENABLED=false",
    ].join("\n");
}

/** dcgm-exporter under systemd, published on the host's listen address only. */
export function dcgmUnit(image: string, listen: string, port: number): string {
    const publish = listen ? `${hostPort(listen, port)}:9400` : `${port}:9400`;
    return [
        header(".dcgmExporter"),
        "[Unit]",
        `Description=aihpc: NVIDIA dcgm-exporter (${image})`,
        "After=docker.service",
        "Requires=docker.service",
        "",
        "[Service]",
        "ExecStartPre=-/usr/bin/docker rm -f aihpc-dcgm-exporter",
        `ExecStart=/usr/bin/docker run --rm --name aihpc-dcgm-exporter --runtime=nvidia --gpus all --cap-add SYS_ADMIN -p ${publish} ${image}`,
        "ExecStop=/usr/bin/docker stop aihpc-dcgm-exporter",
        "Restart=on-failure",
        "RestartSec=30",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ].join("\n");
}

export const FIREWALL_TABLE = "aihpc_monitoring";
export const FIREWALL_FILE = "/etc/aihpc/firewall-monitoring.nft";
export const FIREWALL_UNIT = "aihpc-firewall-monitoring.service";

export interface FirewallArgs {
    /** TCP ports this host serves to the cluster (exporters; on the controller Prometheus and Grafana). */
    ports: number[];
    /** Ports published by Docker (DNAT: they pass the forward hook, not input). */
    publishedPorts?: number[];
    /** Addresses and networks admitted: the cluster's hosts, then workstation.monitoring.firewall.adminNetworks. */
    allowed: string[];
}

/**
 * An nftables table of its own (`inet aihpc_monitoring`): the monitoring ports
 * answer loopback and the admitted addresses, and reset every other
 * connection. Other traffic is left to whatever else filters the host (policy
 * accept; a drop in another table still drops). Loaded atomically (the table
 * is declared, deleted and written again in one `nft -f`), so a reload never
 * leaves the ports open in between.
 */
export function firewallRules(a: FirewallArgs): string {
    if (a.ports.length === 0) throw new Error("firewallRules: no ports to guard");
    const v4 = a.allowed.filter((x) => !x.includes(":"));
    const v6 = a.allowed.filter((x) => x.includes(":"));
    const set = (name: string, type: string, items: string[]) =>
        [`    set ${name} {`, `        type ${type}`, "        flags interval", ...(items.length ? [`        elements = { ${items.join(", ")} }`] : []), "    }"].join("\n");
    const list = (ports: number[]) => `{ ${[...new Set(ports)].sort((x, y) => x - y).join(", ")} }`;
    const published = a.publishedPorts ?? [];
    return [
        "# Managed by aihpc (workstation.monitoring.firewall): who may reach the monitoring ports.",
        `table inet ${FIREWALL_TABLE} {}`,
        `delete table inet ${FIREWALL_TABLE}`,
        `table inet ${FIREWALL_TABLE} {`,
        set("allowed_v4", "ipv4_addr", v4),
        set("allowed_v6", "ipv6_addr", v6),
        "    chain admit {",
        "        ip saddr @allowed_v4 return",
        "        ip6 saddr @allowed_v6 return",
        "        reject with tcp reset",
        "    }",
        "    chain input {",
        "        type filter hook input priority filter; policy accept;",
        '        iif "lo" accept',
        `        tcp dport ${list(a.ports)} jump admit`,
        "    }",
        ...(published.length
            ? [
                  "    chain forward {",
                  "        type filter hook forward priority filter; policy accept;",
                  `        meta l4proto tcp ct status dnat ct original proto-dst ${list(published)} jump admit`,
                  "    }",
              ]
            : []),
        "}",
    ].join("\n");
}

/** Loads the table at boot, after Debian's nftables.service (whose `flush ruleset` would drop it) and before the exporters. */
export function firewallUnit(): string {
    return [
        header(".firewall"),
        "[Unit]",
        "Description=aihpc: who may reach the monitoring ports (nftables)",
        "After=nftables.service",
        // Guarded before the services it guards start.
        "Before=prometheus-node-exporter.service prometheus.service prometheus-alertmanager.service grafana-server.service aihpc-dcgm-exporter.service",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `ExecStart=/usr/sbin/nft -f ${FIREWALL_FILE}`,
        `ExecReload=/usr/sbin/nft -f ${FIREWALL_FILE}`,
        `ExecStop=/usr/sbin/nft delete table inet ${FIREWALL_TABLE}`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ].join("\n");
}
