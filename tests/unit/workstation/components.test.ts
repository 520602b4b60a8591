// The workstation components under the SDK mocks, fed recorded facts.
import { containsSecret, Recorded, runProgram } from "../../helpers/harness";
import { twoHosts } from "../../helpers/fixtures";
import { UNKNOWN_VALUE } from "../../../tools/plan/recorder";
import { stepReceived, stepText } from "../../helpers/steps";
import { factsHook } from "./facts";

const STEP = "command:remote:Command";

function testbedLike(): Record<string, any> {
    const raw = twoHosts();
    raw.workstation.aptProxy = "http://10.213.0.1:3128";
    raw.workstation.hosts[0].gpus = { count: 1, devices: ["/dev/fakegpu0"] };
    raw.workstation.hosts[1].gpus = { count: 1, devices: ["/dev/fakegpu0"] };
    // As on the testbed (tests/testbed/stack-config.ts): the GPU stack is off; tests/unit/workstation/gpu-*.test.ts cover it.
    Object.assign(raw.workstation, { nvidia: { enabled: false }, containers: { enabled: false }, mlRuntime: { enabled: false }, acceptance: { enabled: false } });
    return raw;
}

const run = (raw: Record<string, any>) => runProgram(raw, { preview: false, newResource: factsHook() });

function stepNames(rec: Recorded, host: string): string[] {
    return rec
        .ofType(STEP)
        .map((r) => r.name)
        .filter((n) => n.includes(`-${host}-`))
        .sort();
}

/** Every step's inputs by name, secrets revealed. */
function inputsByName(rec: Recorded): Map<string, string> {
    return new Map(rec.ofType(STEP).map((r) => [r.name, JSON.stringify(rec.inputsOf(r.name))]));
}

function changedSteps(a: Recorded, b: Recorded): string[] {
    const x = inputsByName(a);
    const y = inputsByName(b);
    expect([...y.keys()].sort()).toEqual([...x.keys()].sort());
    return [...x.keys()].filter((k) => x.get(k) !== y.get(k)).sort();
}

describe("workstation components under mocks", () => {
    let rec: Recorded;
    beforeAll(async () => {
        rec = await run(testbedLike());
    });

    test("component types and the steps on each host", () => {
        expect(rec.ofType("aihpc:workstation:BaseSystem").map((r) => r.name)).toEqual(["ws-ws1-base", "ws-ws2-base"]);
        expect(rec.ofType("aihpc:workstation:Slurm").map((r) => r.name)).toEqual(["ws-slurm"]);
        expect(rec.ofType("aihpc:workstation:Monitoring").map((r) => r.name)).toEqual(["ws-monitoring"]);
        expect(stepNames(rec, "ws1")).toEqual(
            [
                "ws-ws1-facts",
                "ws-ws1-bundle",
                ...["retain", "apt-proxy", "apt-sources", "packages", "time", "tuning", "cpu-governor", "users"].map((s) => `ws-ws1-base-${s}`),
                ...["retain", "packages", "munge", "health", "jobs", "config"].map((s) => `ws-slurm-ws1-${s}`),
                ...["retain", "firewall", "node-exporter", "prometheus", "rules", "alertmanager", "slurm-metrics", "grafana", "grafana-config"].map((s) => `ws-monitoring-ws1-${s}`),
            ].sort(),
        );
        // A compute-only host: no Prometheus, Grafana, Alertmanager.
        expect(stepNames(rec, "ws2").filter((n) => n.startsWith("ws-monitoring-"))).toEqual(["ws-monitoring-ws2-firewall", "ws-monitoring-ws2-node-exporter", "ws-monitoring-ws2-retain"]);
        expect(stepNames(rec, "ws2").filter((n) => n.startsWith("ws-slurm-"))).toHaveLength(6);
    });

    test("every mutating step has a delete command; the facts probe has none; steps run from the bundle", () => {
        const fromBundle = / bash \/var\/lib\/aihpc\/bundle\/[0-9a-f]{16}\/lib\.sh \/var\/lib\/aihpc\/bundle\/[0-9a-f]{16}\/[\w.-]+\.sh$/;
        for (const r of rec.ofType(STEP)) {
            const i = rec.inputsOf(r.name);
            if (r.name.endsWith("-facts")) {
                expect(i.delete).toBeUndefined();
                continue;
            }
            if (r.name.endsWith("-bundle")) {
                expect(i.create).toContain("BUNDLE_SHA256=");
                expect(i.delete).toContain("rm -rf /var/lib/aihpc/bundle");
                continue;
            }
            expect(i.delete).toContain("AIHPC_ACTION='delete'");
            expect(i.create).toContain("AIHPC_ACTION='apply'");
            expect(i.create).toMatch(fromBundle);
            expect(i.delete).toMatch(fromBundle);
            // Small and readable: settings only, no script or file text.
            expect(i.create.length).toBeLessThan(1500);
            expect(i.create).not.toContain("\n");
        }
    });

    test("the bundle: copied once per host after the preflight gate, installed before every other step there", () => {
        for (const h of ["ws1", "ws2"]) {
            const copy = rec.named(`ws-${h}-bundle-copy`);
            expect(copy.type).toBe("command:remote:CopyToRemote");
            expect(rec.inputsOf(copy.name).remotePath).toMatch(/^\/var\/tmp\/aihpc-bundle-[0-9a-f]{16}\.tar\.gz$/);
            const install = rec.named(`ws-${h}-bundle`);
            expect(install.dependencies).toContain(copy.urn);
            expect(copy.dependencies.sort()).toEqual([rec.named(`ws-${h}-facts`).urn, rec.named("ws-preflight").urn].sort());
            for (const r of rec.ofType(STEP).filter((x) => x.name.includes(`-${h}-`) && !/-(facts|bundle)$/.test(x.name))) {
                expect([r.name, r.dependencies.includes(install.urn)]).toEqual([r.name, true]);
            }
        }
    });

    test("generated slurm.conf reaches each host's config step (facts recorded, not unknown)", () => {
        for (const h of ["ws1", "ws2"]) {
            const create = stepText(rec.inputsOf(`ws-slurm-${h}-config`));
            expect(create).toContain("SlurmctldHost=ws1(10.0.0.11)");
            expect(create).toContain("NodeName=ws2 NodeAddr=10.0.0.12 CPUs=2");
            expect(create).toContain(`NodeName=${h} Name=gpu Type=fake File=/dev/fakegpu0`);
        }
        expect(rec.inputsOf("ws-slurm-ws1-config").create).toContain("CONTROLLER='1'");
        expect(rec.inputsOf("ws-slurm-ws2-config").create).toContain("CONTROLLER='0'");
        expect(stepText(rec.inputsOf("ws-slurm-ws2-health"))).toContain('\nGPU_FILES="/dev/fakegpu0"\n');
    });

    test("the munge key: 1024 random bytes, on stdin as a secret, the same on every host, never in a command string", () => {
        expect(rec.inputsOf("ws-slurm-munge-key").length).toBe(1024);
        const key = rec.named("ws-slurm-munge-key").state.base64 as string;
        expect(key.length).toBeGreaterThan(1000);
        for (const h of ["ws1", "ws2"]) {
            const step = rec.named(`ws-slurm-${h}-munge`);
            expect(containsSecret(step.inputs.stdin)).toBe(true);
            expect(stepReceived(rec.inputsOf(step.name)).stdin).toBe(key);
        }
        const grafanaPassword = rec.named("ws-monitoring-grafana-admin").state.result as string;
        expect(containsSecret(rec.named("ws-monitoring-ws1-grafana-config").inputs.stdin)).toBe(true);
        for (const r of rec.ofType(STEP)) {
            const i = rec.inputsOf(r.name);
            for (const field of ["create", "update", "delete"]) {
                expect(containsSecret(r.inputs[field])).toBe(false);
                const s = String(i[field] ?? "");
                expect(s).not.toContain(key);
                expect(s).not.toContain(key.slice(0, 64));
                expect(s).not.toContain(grafanaPassword);
            }
            // Other steps' stdin holds files rendered for the host, never a secret.
            if (!r.name.endsWith("-munge") && !r.name.endsWith("-grafana-config")) {
                expect(containsSecret(r.inputs.stdin)).toBe(false);
                expect(stepReceived(i).stdin).toBeUndefined();
            }
        }
    });

    test("order: apt (base packages) before Slurm and monitoring; compute config after the controller's", () => {
        const deps = (n: string) => rec.named(n).dependencies;
        const urn = (n: string) => rec.named(n).urn;
        // Through the base system's marker, which waits for its steps.
        expect(rec.waitsFor("ws-slurm-ws2-retain", "ws-ws2-base-packages")).toBe(true);
        expect(deps("ws-slurm-ws2-config")).toEqual(expect.arrayContaining([urn("ws-slurm-ws1-config"), urn("ws-slurm-ws2-munge"), urn("ws-slurm-ws2-health")]));
        expect(deps("ws-monitoring-ws1-slurm-metrics")).toEqual(expect.arrayContaining([urn("ws-slurm-ws1-config"), urn("ws-monitoring-ws1-node-exporter")]));
        expect(deps("ws-ws1-base-packages")).toEqual(expect.arrayContaining([urn("ws-ws1-base-apt-sources")]));
        expect(deps("ws-ws1-base-apt-sources")).toEqual(expect.arrayContaining([urn("ws-ws1-base-apt-proxy")]));
        // Every step waits for its component's retain flag, so teardown reads it before it goes.
        const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
            if (from === to) return true;
            if (seen.has(from)) return false;
            seen.add(from);
            return (rec.resources.find((x) => x.urn === from)?.dependencies ?? []).some((d) => reaches(d, to, seen));
        };
        for (const r of rec.ofType(STEP).filter((x) => /-(base|slurm|monitoring)-/.test(x.name) && !x.name.endsWith("-retain"))) {
            const h = /-(ws\d)-/.exec(r.name)![1];
            const retain = r.name.startsWith("ws-slurm") ? `ws-slurm-${h}-retain` : r.name.startsWith("ws-monitoring") ? `ws-monitoring-${h}-retain` : `ws-${h}-base-retain`;
            expect([r.name, reaches(r.urn, urn(retain))]).toEqual([r.name, true]);
        }
    });

    test("apt proxy and Debian components", () => {
        expect(rec.inputsOf("ws-ws1-base-apt-proxy").create).toContain("APT_PROXY='http://10.213.0.1:3128'");
        const src = stepText(rec.inputsOf("ws-ws1-base-apt-sources"));
        expect(src).toContain("Components: main contrib non-free non-free-firmware");
        expect(src).toContain("MIRROR='http://deb.debian.org/debian'");
    });

    test("Prometheus scrapes every host's node exporter", () => {
        const create = stepText(rec.inputsOf("ws-monitoring-ws1-prometheus"));
        expect(create).toContain("10.0.0.11:9100");
        expect(create).toContain("10.0.0.12:9100");
        expect(create).toContain("instance: ws2");
    });
});

describe("fine-grained triggers: one setting changes only the steps that depend on it", () => {
    let before: Recorded;
    beforeAll(async () => {
        before = await run(testbedLike());
    });

    test("a partition setting: only the Slurm config step on each host", async () => {
        const raw = testbedLike();
        raw.workstation.slurm = { partitions: [{ name: "gpu", default: true, maxTime: "4:00:00" }] };
        expect(changedSteps(before, await run(raw))).toEqual(["ws-slurm-ws1-config", "ws-slurm-ws2-config"]);
    });

    test("the same config twice: nothing changes", async () => {
        expect(changedSteps(before, await run(testbedLike()))).toEqual([]);
    });

    test.each([
        ["base.swappiness", (w: any) => (w.base = { swappiness: 1 }), ["ws-ws1-base-tuning", "ws-ws2-base-tuning"]],
        ["aptProxy", (w: any) => (w.aptProxy = "http://10.213.0.1:8080"), ["ws-ws1-base-apt-proxy", "ws-ws2-base-apt-proxy"]],
        ["base.retain", (w: any) => (w.base = { retain: true }), ["ws-ws1-base-retain", "ws-ws2-base-retain"]],
        ["slurm.retain", (w: any) => (w.slurm = { retain: true }), ["ws-slurm-ws1-retain", "ws-slurm-ws2-retain"]],
        ["base.users", (w: any) => (w.base = { users: [{ name: "alice", uid: 2001, sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIhUeXXbexzZoiLqPefvDpgz4u38N8nv0gISGcaWzUs1 alice"] }] }), ["ws-ws1-base-users", "ws-ws2-base-users"]],
        ["monitoring.nodeExporterPort", (w: any) => (w.monitoring = { nodeExporterPort: 9101 }), ["ws-monitoring-ws1-firewall", "ws-monitoring-ws1-node-exporter", "ws-monitoring-ws1-prometheus", "ws-monitoring-ws2-firewall", "ws-monitoring-ws2-node-exporter"]],
        ["monitoring.prometheus.retentionDays", (w: any) => (w.monitoring = { prometheus: { retentionDays: 30 } }), ["ws-monitoring-ws1-prometheus"]],
        ["a fake GPU on ws2 only", (w: any) => (w.hosts[1].gpus = { count: 2, devices: ["/dev/fakegpu0", "/dev/fakegpu1"] }), ["ws-slurm-ws1-config", "ws-slurm-ws2-config", "ws-slurm-ws2-health"]],
    ])("%s", async (_what, edit, expected) => {
        const raw = testbedLike();
        edit(raw.workstation);
        expect(changedSteps(before, await run(raw))).toEqual([...expected].sort());
    });
});

describe("teardown and retain", () => {
    test("delete commands read the component's retain flag; the flag step holds the setting", async () => {
        const raw = testbedLike();
        raw.workstation.slurm = { retain: true };
        const rec = await run(raw);
        expect(rec.inputsOf("ws-slurm-ws1-retain").create).toContain("RETAIN='true'");
        expect(rec.inputsOf("ws-ws1-base-retain").create).toContain("RETAIN='false'");
        for (const step of ["ws-slurm-ws1-packages", "ws-ws1-base-packages", "ws-monitoring-ws1-node-exporter", "ws-monitoring-ws1-prometheus"]) {
            const del = stepText(rec.inputsOf(step), "delete");
            expect(del).toMatch(/if aihpc_retain (slurm|base|monitoring); then/);
            expect(del).toContain("aihpc_apt_remove");
        }
        // Services stop whatever retain says.
        expect(stepText(rec.inputsOf("ws-slurm-ws1-packages"), "delete")).toMatch(/for u in slurmctld\.service slurmd\.service munge\.service; do aihpc_service_off/);
        expect(stepText(rec.inputsOf("ws-slurm-ws1-config"), "delete")).toContain("aihpc_rm \"$dir/slurm.conf\"");
    });

    test("components switched off create no steps", async () => {
        const raw = testbedLike();
        raw.workstation.slurm = { enabled: false };
        raw.workstation.monitoring = { enabled: false };
        const rec = await run(raw);
        expect(rec.ofType(STEP).filter((r) => /slurm|monitoring/.test(r.name))).toEqual([]);
        expect(rec.ofType("random:index/randomBytes:RandomBytes")).toEqual([]);
    });

    test("preview (as `pulumi preview`): facts unknown, generated config unknown, graph the same", async () => {
        const rec = await runProgram(testbedLike());
        expect(rec.ofType(STEP)).toHaveLength(2 * 2 + 2 * 8 + 2 * 6 + 2 * 3 + 6);
        // slurm.conf is rendered from the facts: unknown in preview; the command itself is known.
        expect(rec.named("ws-slurm-ws1-config").inputs.stdin).toBe(UNKNOWN_VALUE);
        expect(rec.named("ws-slurm-ws1-config").inputs.create).not.toBe(UNKNOWN_VALUE);
        expect(rec.named("ws-slurm-ws1-packages").inputs.create).not.toBe(UNKNOWN_VALUE);
    });
});
