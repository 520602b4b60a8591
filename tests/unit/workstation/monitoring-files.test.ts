// Monitoring's shipped files. Grafana itself is installed from Grafana's apt
// repository, which the test hosts (and this build machine) cannot reach: the
// grafana step fails there with a clear message by design. So these tests
// check what Grafana would be given: the provisioning files and the dashboard
// JSON, and that every query names a metric something here produces.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { parseConfig } from "../../helpers/harness";
import { twoHosts } from "../../helpers/fixtures";
import { requireTool } from "../../helpers/tools";
import { alertRules, alertmanagerConfig, DATASOURCE_UID, dashboards, grafanaDatasource, prometheusConfig, template } from "../../../components/workstation/monitoring";

const collector = fs.readFileSync(path.resolve(__dirname, "../../../components/workstation/monitoring/scripts/slurm-metrics.sh"), "utf8");
const slurmMetrics = new Set([...collector.matchAll(/\b(slurm_[a-z_]+)\b/g)].map((m) => m[1]));

function metricsIn(expr: string): string[] {
    return [...expr.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{|\[|\)|$|\s|offset|<|>|==|\/)/g)]
        .map((m) => m[1])
        .filter((n) => /^(slurm_|node_|up$|DCGM_)/.test(n));
}

describe("alert rules", () => {
    const rules = YAML.parse(alertRules());
    const all = rules.groups.flatMap((g: any) => g.rules);

    test("cover node down, disk filling, memory pressure, Slurm drained/down, GPUs", () => {
        const names = all.map((r: any) => r.alert);
        expect(names).toEqual(expect.arrayContaining(["NodeExporterDown", "DiskFilling", "MemoryPressure", "SlurmNodeDown", "SlurmNodeDrained", "GpuXidError", "GpuTemperatureHigh"]));
        for (const r of all) {
            expect(r.expr).toBeTruthy();
            expect(r.labels.severity).toMatch(/^(warning|critical)$/);
            expect(r.annotations.summary).toBeTruthy();
        }
    });

    test("Slurm rules use metrics the collector writes", () => {
        for (const r of all.filter((x: any) => x.expr.includes("slurm_"))) {
            for (const m of metricsIn(r.expr).filter((n) => n.startsWith("slurm_"))) expect([r.alert, slurmMetrics.has(m)]).toEqual([r.alert, true]);
        }
    });

    test("promtool check rules (as the rules step runs it on the controller)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-rules-"));
        fs.writeFileSync(path.join(dir, "r.yml"), alertRules());
        const r = spawnSync(requireTool("promtool"), ["check", "rules", path.join(dir, "r.yml")], { encoding: "utf8" });
        fs.rmSync(dir, { recursive: true });
        expect(r.stdout + r.stderr).toContain("SUCCESS");
        expect(r.status).toBe(0);
    });

    test("generated prometheus.yml and alertmanager.yml pass promtool and amtool", () => {
        const raw = twoHosts();
        raw.workstation.monitoring = { alertmanager: { webhookUrl: "http://10.0.0.1:5001/hook" } };
        const m = parseConfig(raw).workstation.monitoring;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-prom-"));
        fs.writeFileSync(path.join(dir, "p.yml"), prometheusConfig(m, [{ name: "ws1", address: "10.0.0.11" }, { name: "ws2", address: "10.0.0.12" }]));
        fs.writeFileSync(path.join(dir, "a.yml"), alertmanagerConfig(m));
        expect(spawnSync(requireTool("promtool"), ["check", "config", path.join(dir, "p.yml")]).status).toBe(0);
        expect(spawnSync(requireTool("amtool"), ["check-config", path.join(dir, "a.yml")]).status).toBe(0);
        fs.rmSync(dir, { recursive: true });
    });
});

describe("Grafana provisioning and dashboards (Grafana's repository is out of reach here: files only)", () => {
    const m = parseConfig(twoHosts()).workstation.monitoring;

    test("datasource points at the controller's Prometheus with the uid the dashboards use", () => {
        const ds = YAML.parse(grafanaDatasource(m));
        expect(ds.apiVersion).toBe(1);
        expect(ds.datasources).toEqual([expect.objectContaining({ uid: DATASOURCE_UID, type: "prometheus", url: "http://127.0.0.1:9090", isDefault: true })]);
        expect(grafanaDatasource(m)).not.toMatch(/\{\{/);
    });

    test("dashboard provider reads the directory the grafana-config step fills", () => {
        const p = YAML.parse(template("grafana/dashboards.yaml"));
        expect(p.providers[0]).toEqual(expect.objectContaining({ type: "file", options: expect.objectContaining({ path: "/var/lib/grafana/dashboards/aihpc" }) }));
        expect(fs.readFileSync(path.resolve(__dirname, "../../../components/workstation/monitoring/scripts/grafana-config.sh"), "utf8")).toContain("dash=/var/lib/grafana/dashboards/aihpc");
    });

    const files = dashboards();
    test("node and Slurm dashboards ship, with unique uids", () => {
        expect(Object.keys(files)).toEqual(["node.json", "slurm.json"]);
        const uids = Object.values(files).map((t) => JSON.parse(t).uid);
        expect(new Set(uids).size).toBe(uids.length);
    });

    test.each(Object.keys(files))("%s: valid JSON, every panel and query on the aihpc datasource, metrics that exist", (f) => {
        const d = JSON.parse(files[f]);
        expect(d.title).toMatch(/^aihpc \//);
        expect(d.panels.length).toBeGreaterThan(3);
        const ids = d.panels.map((p: any) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const p of d.panels) {
            expect(p.datasource).toEqual({ type: "prometheus", uid: DATASOURCE_UID });
            expect(p.gridPos.w).toBeLessThanOrEqual(24);
            expect(p.targets.length).toBeGreaterThan(0);
            for (const t of p.targets) {
                expect(t.datasource.uid).toBe(DATASOURCE_UID);
                expect(t.expr.trim()).not.toBe("");
                const used = metricsIn(t.expr);
                expect(used.length).toBeGreaterThan(0);
                for (const name of used.filter((n) => n.startsWith("slurm_"))) expect([p.title, name, slurmMetrics.has(name)]).toEqual([p.title, name, true]);
            }
        }
    });
});
