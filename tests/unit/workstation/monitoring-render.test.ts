// Monitoring behind the cluster's network (issue 18): where each service
// listens, the firewall's rules and unit, Grafana's access settings, as
// rendered for the steps and as the stack hands them to each host. The rules
// are loaded by real nft on the testbed (tests/testbed/monitoring-firewall.test.ts).
import { parseConfig, problemAt, reveal, runProgram, toCliConfig } from "../../helpers/harness";
import { runUnderMocks } from "../../../tools/plan/recorder";
import { defineStack } from "../../../components/stack";
import { parseStackConfig } from "../../../config";
import { twoHosts, withGcp } from "../../helpers/fixtures";
import { stepReceived } from "../../helpers/steps";
import {
    alertmanagerDropin,
    dcgmUnit,
    firewallArgs,
    firewallRules,
    firewallUnit,
    grafanaDatasource,
    grafanaDropin,
    listenAddress,
    localUrl,
    nodeExporterDropin,
    prometheusConfig,
    prometheusDropin,
} from "../../../components/workstation/monitoring";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";

const cfg = (over: Record<string, unknown> = {}) => {
    const raw = twoHosts();
    raw.workstation.monitoring = over;
    return parseConfig(raw).workstation;
};

describe("listen addresses", () => {
    const ws = cfg();
    test("a host's configured IP; loopback with transport local; every address for a DNS name (the firewall guards)", () => {
        expect(listenAddress(ws.hosts[0], "ssh")).toBe("10.0.0.11");
        expect(listenAddress(ws.hosts[0], "local")).toBe("127.0.0.1");
        expect(listenAddress({ ...ws.hosts[0], address: "ws1.lab.example" }, "ssh")).toBe("");
        expect(listenAddress({ ...ws.hosts[0], address: "fd00::11" }, "ssh")).toBe("fd00::11");
        expect(localUrl("fd00::11", 9100, "/metrics")).toBe("http://[fd00::11]:9100/metrics");
        expect(localUrl("", 9090, "/-/ready")).toBe("http://127.0.0.1:9090/-/ready");
    });

    test("exporter and Prometheus on the cluster address, Alertmanager on loopback with clustering off, Grafana without anonymous access", () => {
        expect(nodeExporterDropin("10.0.0.11", 9100)).toContain("--web.listen-address=10.0.0.11:9100 ");
        expect(nodeExporterDropin("", 9100)).toContain("--web.listen-address=:9100 ");
        expect(prometheusDropin("10.0.0.11", 9090, 15)).toMatch(/--storage\.tsdb\.retention\.time=15d --web\.listen-address=10\.0\.0\.11:9090$/m);
        expect(alertmanagerDropin(9093)).toMatch(/--web\.listen-address=127\.0\.0\.1:9093 --cluster\.listen-address=$/m);
        const g = grafanaDropin("10.0.0.11", 3000);
        for (const line of ["EnvironmentFile=/etc/grafana/aihpc.env", "Environment=GF_SERVER_HTTP_ADDR=10.0.0.11", "Environment=GF_SERVER_HTTP_PORT=3000", "Environment=GF_AUTH_ANONYMOUS_ENABLED=false", "Environment=GF_USERS_ALLOW_SIGN_UP=false"]) {
            expect(g.split("\n")).toContain(line);
        }
        expect(dcgmUnit("img@sha256:" + "a".repeat(64), "10.0.0.11", 9400)).toContain(" -p 10.0.0.11:9400:9400 img@sha256:");
    });

    test("Prometheus scrapes itself and Grafana reads it where it listens", () => {
        const m = cfg().monitoring;
        const p = YAML.parse(prometheusConfig(m, [{ name: "ws1", address: "10.0.0.11" }], [], "10.0.0.11"));
        expect(p.scrape_configs[0].static_configs[0].targets).toEqual(["10.0.0.11:9090"]);
        expect(p.alerting.alertmanagers[0].static_configs[0].targets).toEqual(["127.0.0.1:9093"]);
        expect(YAML.parse(grafanaDatasource(m, "10.0.0.11")).datasources[0].url).toBe("http://10.0.0.11:9090");
    });
});

describe("the host firewall", () => {
    test("admits loopback, the cluster and the admin networks to the monitoring ports, resets the rest; one atomic table", () => {
        const ws = cfg({ firewall: { adminNetworks: ["192.168.10.0/24", "fd00:1::/64"] } });
        const hosts = ws.hosts.map((config) => ({ config }));
        const a = firewallArgs(ws.monitoring, hosts[0], hosts, "ssh", undefined, true);
        expect(a).toEqual({ ports: [9100, 9090, 3000], publishedPorts: [], allowed: ["10.0.0.11", "10.0.0.12", "192.168.10.0/24", "fd00:1::/64"] });
        // A compute host serves only its exporter.
        expect(firewallArgs(ws.monitoring, hosts[1], hosts, "ssh", "dcgm", false)).toMatchObject({ ports: [9100], publishedPorts: [9400] });
        const rules = firewallRules(a);
        const lines = rules.split("\n").map((l) => l.trim());
        expect(lines.slice(1, 4)).toEqual(["table inet aihpc_monitoring {}", "delete table inet aihpc_monitoring", "table inet aihpc_monitoring {"]);
        expect(lines).toContain("elements = { 10.0.0.11, 10.0.0.12, 192.168.10.0/24 }");
        expect(lines).toContain("elements = { fd00:1::/64 }");
        expect(lines).toContain('iif "lo" accept');
        expect(lines).toContain("tcp dport { 3000, 9090, 9100 } jump admit");
        expect(lines).toContain("reject with tcp reset");
        expect(lines).toContain("type filter hook input priority filter; policy accept;");
        expect(rules).not.toContain("hook forward");
        expect(firewallRules({ ports: [9100], publishedPorts: [9400], allowed: [] })).toContain("meta l4proto tcp ct status dnat ct original proto-dst { 9400 } jump admit");
        // No admitted address at all: the sets are empty, the ports answer loopback only.
        expect(firewallRules({ ports: [9100], allowed: [] })).not.toContain("elements");
        expect(() => firewallRules({ ports: [], allowed: [] })).toThrow(/no ports/);
        expect(firewallUnit()).toContain("ExecStart=/usr/sbin/nft -f /etc/aihpc/firewall-monitoring.nft");
        expect(firewallUnit()).toMatch(/^Before=.*prometheus-node-exporter\.service.*grafana-server\.service/m);
    });

    test("adminNetworks must be addresses or CIDR networks", () => {
        const raw = twoHosts();
        raw.workstation.monitoring = { firewall: { adminNetworks: ["192.168.10.0/24", "lab-net", "10.0.0.0/33"] } };
        expect(problemAt(raw, undefined, "aihpc:workstation.monitoring.firewall.adminNetworks[1]").message).toMatch(/CIDR/);
        expect(problemAt(raw, undefined, "aihpc:workstation.monitoring.firewall.adminNetworks[2]").message).toMatch(/CIDR/);
    });
});

describe("wired into the stack", () => {
    test("every host's firewall step comes before its monitoring services; the files travel as the step's files", async () => {
        const raw = twoHosts();
        raw.workstation.monitoring = { firewall: { adminNetworks: ["192.168.10.0/24"] } };
        const run = await runProgram(raw);
        for (const h of ["ws1", "ws2"]) {
            const fw = run.named(`ws-monitoring-${h}-firewall`);
            const got = stepReceived(run.inputsOf(fw.name)).vars;
            expect(got.RULES).toContain("elements = { 10.0.0.11, 10.0.0.12, 192.168.10.0/24 }");
            expect(got.UNIT).toContain("[Install]");
            expect(run.named(`ws-monitoring-${h}-node-exporter`).dependencies).toContain(fw.urn);
            expect(stepReceived(run.inputsOf(`ws-monitoring-${h}-node-exporter`)).vars.DROPIN).toContain(`--web.listen-address=${h === "ws1" ? "10.0.0.11" : "10.0.0.12"}:9100`);
        }
        expect(stepReceived(run.inputsOf("ws-monitoring-ws1-firewall")).vars.RULES).toContain("tcp dport { 3000, 9090, 9100 } jump admit");
        expect(stepReceived(run.inputsOf("ws-monitoring-ws2-firewall")).vars.RULES).toContain("tcp dport { 9100 } jump admit");
        for (const s of ["prometheus", "grafana-config"]) expect(run.named(`ws-monitoring-ws1-${s}`).dependencies).toContain(run.named("ws-monitoring-ws1-firewall").urn);
        const gc = stepReceived(run.inputsOf("ws-monitoring-ws1-grafana-config")).vars;
        expect(gc.DROPIN).toContain("GF_AUTH_ANONYMOUS_ENABLED=false");
        raw.workstation.monitoring = { firewall: { enabled: false } };
        expect((await runProgram(raw)).resources.filter((r) => r.name.endsWith("-firewall"))).toEqual([]);
    }, 120_000);

    test("Grafana's admin password is a secret stack output, the same the grafana-config step gets on stdin", async () => {
        // The output itself, as the engine gets it: secret.
        const { config, secretKeys } = toCliConfig(twoHosts(), ["sshPrivateKey"]);
        let secret: boolean | undefined;
        await runUnderMocks(
            async () => {
                const out = await defineStack(parseStackConfig(config, new Set(secretKeys)));
                secret = await pulumi.isSecret(out.grafanaAdminPassword!);
                return {};
            },
            { preview: true, config, secretKeys },
        );
        expect(secret).toBe(true);
        const run = await runProgram(twoHosts());
        const out = reveal(run.outputs.grafanaAdminPassword) as string;
        expect(out).toMatch(/^x{24}$/);
        expect(stepReceived(run.inputsOf("ws-monitoring-ws1-grafana-config")).stdin).toBe(out);
        const off = twoHosts();
        off.workstation.monitoring = { grafana: { enabled: false } };
        expect((await runProgram(off)).outputs.grafanaAdminPassword).toBeUndefined();
        // The gcp stack has it too.
        expect(reveal((await runProgram(withGcp(twoHosts()))).outputs.grafanaAdminPassword)).toBe(out);
    }, 180_000);
});
