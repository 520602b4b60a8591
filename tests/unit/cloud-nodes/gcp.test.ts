// The Google Cloud side of the cloud partition under Pulumi's mocks (the
// Google provider plugin cannot run here): template, identity, roles and
// their condition, firewall, secret, and that the policies pass.
import * as fs from "fs";
import { LAUNCHER_PERMISSIONS, LISTER_PERMISSIONS, NODE_BOOTSTRAP } from "../../../components/gcp/cloud-nodes";
import { evaluatePolicies, mandatory } from "../../../policies/evaluate";
import { withGcp } from "../../helpers/fixtures";
import { factsHook } from "../workstation/facts";
import { stepReceived } from "../../helpers/steps";
import { containsSecret, Recorded, reveal, runProgram } from "../../helpers/harness";

const SA = (id: string) => `serviceAccount:aihpc-test-${id}@test-project-1.iam.gserviceaccount.com`;

function withCloud(over: Record<string, any> = {}): Record<string, any> {
    const raw = withGcp();
    raw.gcp.cloudNodes = { enabled: true, zones: ["europe-west4-a", "europe-west4-b"], tunnel: { workstationEgressCidr: "198.51.100.7/32" }, ...over };
    return raw;
}

let on: Recorded;
let spot: Recorded;
let off: Recorded;
beforeAll(async () => {
    on = await runProgram(withCloud());
    spot = await runProgram(withCloud({ spot: true, machineType: "n1-standard-8", gpu: { type: "NVIDIA_TESLA_T4", count: 2 } }));
    off = await runProgram(withGcp());
    // Three whole-stack plans: minutes on a busy 2-core machine.
}, 180_000);

const TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate";

describe("cloud nodes, Google Cloud side", () => {
    test("off by default: no template, role, node account, firewall or munge secret, and no cloud lines in slurm.conf", async () => {
        const plain = await runProgram(withGcp(), { preview: false, newResource: factsHook() });
        expect(stepReceived(plain.inputsOf("ws-slurm-ws1-config")).vars.SLURM_CONF).not.toMatch(/State=CLOUD|ResumeProgram/);
        expect(off.ofType(TEMPLATE)).toEqual([]);
        expect(off.ofType("gcp:projects/iAMCustomRole:IAMCustomRole")).toEqual([]);
        expect(off.ofType("gcp:serviceaccount/account:Account").map((r) => r.name)).not.toContain("gcp-identity-cnode");
        expect(off.resources.filter((r) => r.name.startsWith("gcp-") && r.name.includes("munge")).map((r) => r.name)).toEqual([]);
        expect((off.outputs.gcp as any).cloudNodes).toBeUndefined();
    }, 120_000);

    test("the template: Debian 12, the machine type, no public IP, the stack's subnet, the node account, the bootstrap, labels", () => {
        const [t] = on.ofType(TEMPLATE);
        const i = on.inputsOf(t.name);
        expect(i).toMatchObject({
            namePrefix: "aihpc-test-cn-tpl-",
            machineType: "g2-standard-8",
            disks: [{ boot: true, autoDelete: true, sourceImage: "projects/debian-cloud/global/images/family/debian-12", diskSizeGb: 100 }],
            serviceAccount: { email: "aihpc-test-cnode@test-project-1.iam.gserviceaccount.com" },
            scheduling: { provisioningModel: "STANDARD", automaticRestart: false, onHostMaintenance: "TERMINATE" },
            tags: ["aihpc-cloud-node"],
            labels: { "managed-by": "pulumi", stack: "test", role: "cloud-node", "slurm-partition": "cloud" },
        });
        expect(i.networkInterfaces).toHaveLength(1);
        expect(i.networkInterfaces[0].accessConfigs).toBeUndefined();
        expect(on.named(t.name).dependencies).toContain(on.named("gcp-network-subnet").urn);
        // G2 comes with its L4: no guest accelerator to add.
        expect(i.guestAccelerators).toBeUndefined();
        expect(i.metadata["startup-script"]).toBe(fs.readFileSync(NODE_BOOTSTRAP, "utf8"));
        expect(i.metadata).toMatchObject({ "aihpc-conf-server": "10.99.0.1:6817", "aihpc-gpu": "1", "block-project-ssh-keys": "TRUE", "enable-oslogin": "TRUE" });
        expect(i.metadata["aihpc-munge-secret"]).toMatch(/aihpc-test-munge-key/);
    });

    test("spot when asked; N1 takes its GPUs as guest accelerators", () => {
        const i = spot.inputsOf(spot.ofType(TEMPLATE)[0].name);
        expect(i.scheduling).toEqual({ provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "DELETE" });
        expect(i.guestAccelerators).toEqual([{ type: "nvidia-tesla-t4", count: 2 }]);
    });

    test("the node account: logs on the project; datasets read-only, checkpoints read-write, the munge key only", () => {
        expect(on.ofType("gcp:projects/iAMMember:IAMMember").filter((r) => on.inputsOf(r.name).member === SA("cnode")).map((r) => on.inputsOf(r.name).role)).toEqual(["roles/logging.logWriter"]);
        expect(on.inputsOf("gcp-storage-datasets-iam-storage-objectviewer").members).toContain(SA("cnode"));
        expect(on.inputsOf("gcp-storage-datasets-iam-storage-objectuser").members).not.toContain(SA("cnode"));
        expect(on.inputsOf("gcp-storage-checkpoints-iam-storage-objectuser").members).toContain(SA("cnode"));
        expect(on.inputsOf("gcp-storage-artifacts-iam-storage-objectuser").members).not.toContain(SA("cnode"));
        const secretGrants = on.resources.filter((r) => r.type.startsWith("gcp:secretmanager/secretIam") && JSON.stringify(reveal(r.inputs)).includes(SA("cnode")));
        expect(secretGrants.map((r) => [r.name, on.inputsOf(r.name).role])).toEqual([["gcp-secrets-munge-key-iam-secretmanager-secretaccessor", "roles/secretmanager.secretAccessor"]]);
        // The key itself: the workstation's Slurm munge key, stored as its bytes, secret in the plan.
        const v = on.named("gcp-secrets-munge-key-v");
        expect(on.inputsOf(v.name)).toMatchObject({ isSecretDataBase64: true, secretData: on.named("ws-slurm-munge-key").state.base64 });
        expect(containsSecret(v.inputs.secretData)).toBe(true);
        expect(on.resources.filter((r) => r.name.startsWith("gcp-secrets-munge-key-iam-")).map((r) => r.name)).toEqual(["gcp-secrets-munge-key-iam-secretmanager-secretaccessor"]);
        // Only the workstation may act as the node account (to create instances that run as it).
        expect(on.inputsOf("gcp-identity-cnode-iam-iam-serviceaccountuser").members).toEqual([SA("ws")]);
    });

    test("the workstation's roles: just the compute permissions, the launcher limited to the stack's nodes by condition", () => {
        const roles = on.ofType("gcp:projects/iAMCustomRole:IAMCustomRole").map((r) => on.inputsOf(r.name)).sort((a, b) => a.roleId.localeCompare(b.roleId));
        expect(roles.map((r) => [r.roleId, r.permissions])).toEqual([
            ["aihpc_test_cn_launcher", LAUNCHER_PERMISSIONS],
            ["aihpc_test_cn_lister", LISTER_PERMISSIONS],
        ]);
        for (const r of roles) expect(r.permissions.every((p: string) => p.startsWith("compute."))).toBe(true);
        expect(LAUNCHER_PERMISSIONS.filter((p) => /\.(setIamPolicy|\*)$|admin/i.test(p))).toEqual([]);
        const launcher = on.inputsOf("gcp-cloud-nodes-launcher-iam");
        expect(launcher.member).toBe(SA("ws"));
        expect(launcher.condition.expression).toBe(
            [
                '(resource.type == "compute.googleapis.com/Instance" && resource.name.extract("/instances/{name}").startsWith("aihpc-test-cn-"))',
                '(resource.type == "compute.googleapis.com/Disk" && resource.name.extract("/disks/{name}").startsWith("aihpc-test-cn-"))',
                '(resource.type == "compute.googleapis.com/InstanceTemplate" && resource.name.extract("/instanceTemplates/{name}").startsWith("aihpc-test-cn-tpl-"))',
                '(resource.type == "compute.googleapis.com/Subnetwork" && resource.name == "projects/test-project-1/regions/europe-west4/subnetworks/aihpc-test-subnet")',
            ].join(" || "),
        );
        expect(on.inputsOf("gcp-cloud-nodes-lister-iam").condition).toBeUndefined();
    });

    test("CI: previews read, deploys manage templates and custom roles, and may grant just the two custom roles; nothing of it when off", () => {
        const rolesOf = (run: Recorded, id: string) =>
            run.ofType("gcp:projects/iAMMember:IAMMember").filter((r) => run.inputsOf(r.name).member === SA(id)).map((r) => run.inputsOf(r.name).role);
        expect(rolesOf(on, "ci-deploy")).toEqual(expect.arrayContaining(["roles/compute.instanceAdmin.v1", "roles/iam.roleAdmin"]));
        expect(rolesOf(on, "ci-preview")).toEqual(expect.arrayContaining(["roles/compute.viewer", "roles/iam.roleViewer"]));
        expect(rolesOf(off, "ci-deploy")).not.toContain("roles/iam.roleAdmin");
        expect(rolesOf(off, "ci-preview")).not.toContain("roles/compute.viewer");
        const cond = (run: Recorded) => run.inputsOf("gcp-identity-ci-deploy-project-iam-resourcemanager-projectiamadmin").condition.expression as string;
        expect(cond(on)).toContain("'projects/test-project-1/roles/aihpc_test_cn_launcher', 'projects/test-project-1/roles/aihpc_test_cn_lister'");
        expect(cond(off)).not.toContain("roles/aihpc_test_cn_");
    });

    test("firewall: slurmd and srun ports only from the tunnel, and between nodes", () => {
        const fw = on.ofType("gcp:compute/firewall:Firewall").filter((r) => r.name.startsWith("gcp-cloud-nodes-")).map((r) => on.inputsOf(r.name));
        expect(fw).toEqual([
            expect.objectContaining({ name: "aihpc-test-cn-slurm", direction: "INGRESS", sourceRanges: ["10.99.0.0/24"], targetTags: ["aihpc-cloud-node"], allows: [{ protocol: "tcp", ports: ["6818", "60001-63000"] }] }),
            expect.objectContaining({ name: "aihpc-test-cn-peers", direction: "INGRESS", sourceTags: ["aihpc-cloud-node"], targetTags: ["aihpc-cloud-node"], allows: [{ protocol: "tcp", ports: ["6818", "60001-63000"] }] }),
        ]);
        expect(fw.every((f) => f.sourceRanges?.includes("0.0.0.0/0") !== true)).toBe(true);
    });

    test("teardown order: template, roles, grants and firewall come after the node account, the munge key, buckets and network (so they go first on destroy)", () => {
        const children = on.childrenOf("gcp-cloud-nodes");
        expect(children.length).toBe(7);
        for (const c of children) {
            const deps = on.named(c).dependencies;
            for (const n of ["gcp-identity-cnode", "gcp-identity-cnode-iam-iam-serviceaccountuser", "gcp-secrets-munge-key", "gcp-storage-checkpoints-bucket", "gcp-network-subnet", "gcp-network-nat"]) {
                expect([c, n, deps.includes(on.named(n).urn)]).toEqual([c, n, true]);
            }
        }
    });

    test("the controller's step: after the template, roles, grants, firewall and node account; its delete drains and deletes the nodes first", () => {
        const step = on.named("hybrid-cloud-nodes-ws1");
        const needs = ["gcp-cloud-nodes-template", "gcp-cloud-nodes-launcher-iam", "gcp-cloud-nodes-lister-iam", "gcp-cloud-nodes-cn-slurm", "gcp-identity-cnode", "gcp-secrets-munge-key", "ws-slurm-ws1-config"];
        for (const n of needs) expect([n, step.dependencies.includes(on.named(n).urn)]).toEqual([n, true]);
        const i = on.inputsOf(step.name);
        expect(i.delete).toMatch(/^AIHPC_ACTION='delete' .*PARTITION='cloud' .*cloud-nodes\.sh$/);
        expect(off.resources.filter((r) => r.name.startsWith("hybrid-cloud-nodes"))).toEqual([]);
    });

    test("outputs name the template, prefix, zones and secret; every mandatory policy passes", async () => {
        // Outputs resolve in an update, not in a preview.
        const up = await runProgram(withCloud(), { preview: false, newResource: factsHook() });
        expect((up.outputs.gcp as any).cloudNodes).toMatchObject({ nodePrefix: "aihpc-test-cn-", zones: ["europe-west4-a", "europe-west4-b"] });
        // The controller's settings file, as the step receives it on stdin.
        const got = stepReceived(up.inputsOf("hybrid-cloud-nodes-ws1"));
        expect(got.vars.CLOUD_PROGRAM).toBe(fs.readFileSync(require.resolve("../../../components/hybrid/cloud-nodes/scripts/aihpc-cloud-nodes"), "utf8").replace(/\n+$/, ""));
        // The controller's slurm.conf has the cloud partition; its gres.conf names the cloud nodes' GPUs.
        const conf = stepReceived(up.inputsOf("ws-slurm-ws1-config")).vars;
        expect(conf.SLURM_CONF).toContain("\nNodeName=aihpc-test-cn-[1-2] CPUs=8 RealMemory=29491 Gres=gpu:l4:1 Feature=cloud State=CLOUD\n");
        expect(conf.SLURM_CONF).toContain("\nResumeProgram=/usr/local/sbin/aihpc-cloud-resume\n");
        expect(conf.GRES_CONF.trimEnd().split("\n").pop()).toBe("NodeName=aihpc-test-cn-[1-2] Name=gpu Type=l4 File=/dev/nvidia0");
        expect(got.vars.CLOUD_SERVICE).toContain("\nUser=slurm\nExecStart=/usr/local/sbin/aihpc-cloud-nodes reconcile\n");
        // SlurmUser cannot write the node exporter's directory: root publishes the metrics after each run.
        expect(got.vars.CLOUD_SERVICE).toContain(
            "\nExecStopPost=+/bin/sh -c 'test -d /var/lib/prometheus/node-exporter && test -f /var/lib/aihpc/cloud-nodes/aihpc_cloud_nodes.prom || exit 0; install -m 0644 /var/lib/aihpc/cloud-nodes/aihpc_cloud_nodes.prom /var/lib/prometheus/node-exporter/.aihpc_cloud_nodes.prom.tmp && mv -f",
        );
        expect(JSON.parse(got.vars.CLOUD_CONFIG).metricsFile).toBe("/var/lib/aihpc/cloud-nodes/aihpc_cloud_nodes.prom");
        expect(got.vars.CLOUD_TIMER).toContain("\nOnUnitActiveSec=5min\n");
        expect(JSON.parse(got.vars.CLOUD_CONFIG)).toMatchObject({ backend: "gce", project: "test-project-1", zones: ["europe-west4-a", "europe-west4-b"], nodePrefix: "aihpc-test-cn-", partition: "cloud", backoffSeconds: 1800 });
        const resources = on.resources.filter((r) => r.custom && r.type.startsWith("gcp:")).map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: reveal(r.inputs) as Record<string, any>, protect: r.options.protect }));
        expect(mandatory(evaluatePolicies(resources))).toEqual([]);
    }, 120_000);
});
