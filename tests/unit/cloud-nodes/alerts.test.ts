// The cloud partition's alert rules, evaluated by promtool on the reconciler's metrics.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { requireTool } from "../../helpers/tools";

const RULES = path.resolve(__dirname, "../../../components/workstation/monitoring/templates/rules/aihpc.rules.yml");

test("orphans deleted, nodes in back-off and a stale reconciler alert; a quiet partition does not", () => {
    const promtool = requireTool("promtool");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-cloud-alerts-"));
    const labels = `{instance="ws1:9100", job="node"}`;
    const tests = `rule_files: [${JSON.stringify(RULES)}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'aihpc_cloud_nodes_orphans_deleted_total${labels}'
        values: '0x30 1x30'
      - series: 'aihpc_cloud_nodes_backoff${labels}'
        values: '0x10 1x20'
      - series: 'aihpc_cloud_nodes_reconcile_errors${labels}'
        values: '0x80'
      - series: 'aihpc_cloud_nodes_reconcile_timestamp_seconds${labels}'
        values: '0+60x20 1200x60'
    alert_rule_test:
      - eval_time: 20m
        alertname: CloudNodeOrphansDeleted
        exp_alerts: []
      - eval_time: 35m
        alertname: CloudNodeOrphansDeleted
        exp_alerts:
          - exp_labels: {severity: warning, instance: "ws1:9100", job: node}
            exp_annotations:
              summary: "ws1:9100: the reconciler deleted cloud instances Slurm did not account for"
              description: "Instances named like the stack's cloud nodes ran without Slurm knowing them (a failed suspend, a lost resume): billed until deleted. journalctl -u aihpc-cloud-reconcile tells which."
      - eval_time: 12m
        alertname: CloudNodesInBackoff
        exp_alerts: []
      - eval_time: 20m
        alertname: CloudNodesInBackoff
        exp_alerts:
          - exp_labels: {severity: warning, instance: "ws1:9100", job: node}
            exp_annotations:
              summary: "ws1:9100: 1 cloud node(s) DOWN after a failed resume (stockout or quota)"
              description: "sinfo -R shows the cloud's reason; the nodes return to service when the back-off ends."
      - eval_time: 60m
        alertname: CloudNodeReconcilerStale
        exp_alerts: []
      - eval_time: 66m
        alertname: CloudNodeReconcilerStale
        exp_alerts:
          - exp_labels: {severity: warning, instance: "ws1:9100", job: node}
            exp_annotations:
              summary: "ws1:9100: the cloud node reconciler has not run cleanly for 15 minutes: orphaned instances may go unnoticed"
`;
    fs.writeFileSync(path.join(dir, "t.yml"), tests);
    const r = spawnSync(promtool, ["test", "rules", path.join(dir, "t.yml")], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    expect([r.status, r.stdout + r.stderr]).toEqual([0, expect.stringContaining("SUCCESS")]);
});
