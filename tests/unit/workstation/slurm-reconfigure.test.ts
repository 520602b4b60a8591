// Reconfiguring a running cluster (issue 14, item 5): the drain program the
// controller's config step runs before slurm.conf drops a node, exercised with
// stand-in scontrol/squeue/scancel; the setting and how it reaches the steps.
// The real-host proof is tests/testbed/slurm-reconfigure.test.ts.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConfig, runProgram } from "../../helpers/harness";
import { HOST_KEY_2, twoHosts } from "../../helpers/fixtures";
import { stepReceived } from "../../helpers/steps";
import { ConfigError } from "../../../config";
import { factsHook } from "./facts";

const PROGRAM = path.resolve(__dirname, "..", "..", "..", "components", "workstation", "slurm", "scripts", "drain-removed.sh");

/**
 * Stand-ins with the output shapes of Slurm 22.05. State in DIR: `known` (node
 * names slurmctld knows), `state.NODE` (its State=), `jobs` (job ids on the
 * leaving nodes; `ends-after` polls until they end), `down` (slurmctld does
 * not answer), `calls` (every scontrol update / scancel).
 */
const FAKES: Record<string, string> = {
    scontrol: `d="$FAKE_DIR"
case "$1 $2" in
  "show hostnames")
    if [[ "$3" =~ ^(.*)\\[([0-9]+)-([0-9]+)\\]$ ]]; then
      for i in $(seq "\${BASH_REMATCH[2]}" "\${BASH_REMATCH[3]}"); do echo "\${BASH_REMATCH[1]}$i"; done
    else echo "$3"; fi ;;
  "ping ") [ -e "$d/down" ] && { echo "Slurmctld(primary) at ws1 is DOWN"; exit 1; }; echo "Slurmctld(primary) at ws1 is UP" ;;
  "show node") grep -qx "$4" "$d/known" || { echo "Node $4 not found" >&2; exit 1; }; echo "NodeName=$4 Arch=x86_64 State=$(cat "$d/state.$4") Partitions=gpu" ;;
  update*) echo "scontrol $*" >>"$d/calls"; n="\${2#nodename=}"; echo "$(cat "$d/state.$n")+DRAIN" >"$d/state.$n" ;;
  *) echo "unexpected: scontrol $*" >&2; exit 2 ;;
esac`,
    squeue: `d="$FAKE_DIR"
echo "squeue $*" >>"$d/squeue-calls"
[ -s "$d/jobs" ] || exit 0
n=$(cat "$d/ends-after" 2>/dev/null || echo 1000000)
if [ "$n" -le 0 ]; then : >"$d/jobs"; exit 0; fi
echo $((n - 1)) >"$d/ends-after"
cat "$d/jobs"`,
    scancel: `echo "scancel $*" >>"$FAKE_DIR/calls"`,
};

const NODES = (names: string[], cloud?: string) =>
    [
        "ClusterName=aihpc",
        ...names.map((n) => `NodeName=${n} NodeAddr=10.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN`),
        ...(cloud ? [`NodeName=${cloud} CPUs=4 RealMemory=16000 Feature=cloud State=CLOUD`] : []),
        `PartitionName=gpu Nodes=${names.join(",")} Default=YES State=UP`,
        "",
    ].join("\n");

describe("drain-removed.sh: nodes that leave slurm.conf are drained and their jobs waited for, never cancelled", () => {
    let tmp: string;
    let n = 0;
    beforeAll(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-drain-"));
        fs.mkdirSync(path.join(tmp, "bin"));
        for (const [name, body] of Object.entries(FAKES)) fs.writeFileSync(path.join(tmp, "bin", name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    interface Case {
        old?: string;
        next: string;
        timeout?: number;
        known?: Record<string, string>;
        jobs?: string;
        endsAfter?: number;
        down?: boolean;
    }
    const run = (c: Case) => {
        const d = path.join(tmp, `case${n++}`);
        fs.mkdirSync(d);
        if (c.old !== undefined) fs.writeFileSync(path.join(d, "old.conf"), c.old);
        fs.writeFileSync(path.join(d, "new.conf"), c.next);
        fs.writeFileSync(path.join(d, "known"), Object.keys(c.known ?? {}).join("\n") + "\n");
        for (const [node, state] of Object.entries(c.known ?? {})) fs.writeFileSync(path.join(d, `state.${node}`), state);
        if (c.jobs) fs.writeFileSync(path.join(d, "jobs"), c.jobs);
        if (c.endsAfter !== undefined) fs.writeFileSync(path.join(d, "ends-after"), String(c.endsAfter));
        if (c.down) fs.writeFileSync(path.join(d, "down"), "");
        const r = spawnSync("bash", [PROGRAM, path.join(d, "old.conf"), path.join(d, "new.conf"), String(c.timeout ?? 30), "0.1"], {
            env: { PATH: `${path.join(tmp, "bin")}:/usr/bin:/bin`, FAKE_DIR: d },
            encoding: "utf8",
            timeout: 20_000,
        });
        const read = (f: string) => (fs.existsSync(path.join(d, f)) ? fs.readFileSync(path.join(d, f), "utf8") : "");
        return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: read("calls"), squeue: read("squeue-calls"), state: (node: string) => read(`state.${node}`) };
    };

    test("a first apply (no slurm.conf yet), or only partitions changed: nothing to drain, slurmctld not even asked", () => {
        for (const c of [{ next: NODES(["ws1", "ws2"]) }, { old: NODES(["ws1", "ws2"]), next: NODES(["ws1", "ws2"]).replace("Default=YES", "Default=NO"), down: true }]) {
            const r = run(c);
            expect({ code: r.code, stdout: r.stdout, stderr: r.stderr, calls: r.calls, squeue: r.squeue }).toEqual({ code: 0, stdout: "", stderr: "", calls: "", squeue: "" });
        }
    });

    test("a node added is no node leaving", () => {
        const r = run({ old: NODES(["ws1", "ws2"]), next: NODES(["ws1", "ws2", "ws3"]), down: true });
        expect([r.code, r.calls]).toEqual([0, ""]);
    });

    test("a leaving node without jobs: drained with the reason, then it may go", () => {
        const r = run({ old: NODES(["ws1", "ws2", "ws3"]), next: NODES(["ws1", "ws2"]), known: { ws1: "IDLE", ws2: "IDLE", ws3: "IDLE" } });
        expect(r.code).toBe(0);
        expect(r.calls).toBe('scontrol update nodename=ws3 state=drain reason=aihpc: removed from workstation.hosts\n');
        expect(r.state("ws3")).toBe("IDLE+DRAIN\n");
        expect(r.stdout).toMatch(/drained node ws3 \(removed from workstation\.hosts\)[\s\S]*no job runs on node\(s\) ws3: they can leave slurm\.conf/);
        // Only jobs that hold the node count, not ones that ended (squeue -t all would list those for MinJobAge).
        expect(r.squeue).toBe("squeue -h -w ws3 -t CONFIGURING,RUNNING,SUSPENDED,COMPLETING,STOPPED,SIGNALING,STAGE_OUT,RESIZING -o %i\n");
    });

    test("a leaving node running a job: waits until it ends, saying so, and cancels nothing", () => {
        const r = run({ old: NODES(["ws1", "ws3"]), next: NODES(["ws1"]), known: { ws1: "IDLE", ws3: "MIXED" }, jobs: "42\n", endsAfter: 3 });
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/waiting for job\(s\) 42 on node\(s\) ws3 to end \(\d+ s left of workstation\.slurm\.drainTimeout\)/);
        expect(r.squeue.trim().split("\n")).toHaveLength(4);
        expect(r.calls).not.toMatch(/scancel/);
    });

    test("past the timeout: an error naming the setting and the jobs; the node stays drained, nothing cancelled", () => {
        const r = run({ old: NODES(["ws1", "ws2", "ws3"]), next: NODES(["ws1"]), timeout: 1, known: { ws1: "IDLE", ws2: "ALLOCATED", ws3: "MIXED" }, jobs: "7\n9\n7\n" });
        expect(r.code).toBe(1);
        expect(r.stderr).toBe(
            "aihpc: error: node(s) ws2,ws3 still run job(s) 7 9 after 1 s (workstation.slurm.drainTimeout): they stay drained and slurm.conf is unchanged, so the jobs keep running; wait for them to end (or scancel them), or raise drainTimeout, then apply again\n",
        );
        expect(r.state("ws2")).toBe("ALLOCATED+DRAIN\n");
        expect(r.state("ws3")).toBe("MIXED+DRAIN\n");
        expect(r.calls).not.toMatch(/scancel/);
    });

    test("timeout 0: fails at once while jobs run, and goes through at once when none do", () => {
        const busy = run({ old: NODES(["ws1", "ws2"]), next: NODES(["ws1"]), timeout: 0, known: { ws2: "MIXED" }, jobs: "5\n" });
        expect([busy.code, busy.squeue.trim().split("\n").length]).toEqual([1, 1]);
        expect(busy.stderr).toMatch(/still run job\(s\) 5 after 0 s/);
        const idle = run({ old: NODES(["ws1", "ws2"]), next: NODES(["ws1"]), timeout: 0, known: { ws2: "IDLE" } });
        expect(idle.code).toBe(0);
    });

    test("an already drained node is not drained again (a re-run after a timeout)", () => {
        const r = run({ old: NODES(["ws1", "ws2"]), next: NODES(["ws1"]), known: { ws2: "IDLE+DRAIN" } });
        expect([r.code, r.calls]).toEqual([0, ""]);
    });

    test("a node slurmctld does not know (it never registered) has nothing to drain", () => {
        const r = run({ old: NODES(["ws1", "ws2"]), next: NODES(["ws1"]), known: { ws1: "IDLE" } });
        expect(r.code).toBe(0);
        expect(r.stdout).toBe("aihpc: node ws2 is not known to slurmctld: nothing to drain\n");
        expect([r.calls, r.squeue]).toEqual(["", ""]);
    });

    test("a smaller cloud partition: only the cloud nodes past the new end leave (hostlists expanded)", () => {
        const r = run({ old: NODES(["ws1"], "cn-[1-4]"), next: NODES(["ws1"], "cn-[1-2]"), known: { "cn-3": "IDLE+CLOUD+POWERED_DOWN", "cn-4": "IDLE+CLOUD+POWERED_DOWN" } });
        expect(r.code).toBe(0);
        expect(r.calls.trim().split("\n").map((l) => l.split(" ")[2])).toEqual(["nodename=cn-3", "nodename=cn-4"]);
        expect(r.squeue).toMatch(/-w cn-3,cn-4 /);
    });

    test("slurmctld does not answer: an error, since the jobs cannot be waited for", () => {
        const r = run({ old: NODES(["ws1", "ws2"]), next: NODES(["ws1"]), down: true });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/node\(s\) ws2 leave the cluster but slurmctld does not answer.*systemctl start slurmctld/);
    });
});

describe("workstation.slurm.drainTimeout", () => {
    test("default 30 minutes; 0 to a week; a clear error outside", () => {
        expect(parseConfig(twoHosts()).workstation.slurm.drainTimeout).toBe(1800);
        const r = twoHosts();
        r.workstation.slurm = { drainTimeout: -1 };
        expect(() => parseConfig(r)).toThrow(ConfigError);
        expect(() => parseConfig(r)).toThrow(/workstation\.slurm\.drainTimeout/);
    });

    test("reaches the controller's config step only, with the drain program; compute hosts' steps do not change with it", async () => {
        const r = twoHosts();
        r.workstation.slurm = { drainTimeout: 120 };
        const rec = await runProgram(r, { preview: false, newResource: factsHook() });
        const ctl = stepReceived(rec.inputsOf("ws-slurm-ws1-config"));
        expect(ctl.vars.DRAIN_TIMEOUT).toBe("120");
        expect(ctl.vars.DRAIN_PROGRAM).toBe(fs.readFileSync(PROGRAM, "utf8").replace(/\n+$/, ""));
        const compute = stepReceived(rec.inputsOf("ws-slurm-ws2-config"));
        expect([compute.vars.DRAIN_TIMEOUT, compute.vars.DRAIN_PROGRAM]).toEqual([undefined, undefined]);
        const base = await runProgram(twoHosts(), { preview: false, newResource: factsHook() });
        expect(base.inputsOf("ws-slurm-ws2-config").create).toBe(rec.inputsOf("ws-slurm-ws2-config").create);
    });
});

describe("what each change re-runs (inputs compared as the engine compares them)", () => {
    const HOSTS = ["ws1", "ws2", "ws3"].map((name, i) => ({
        name,
        address: `10.0.0.${11 + i}`,
        hostKey: HOST_KEY_2,
        roles: i === 0 ? ["controller", "compute"] : ["compute"],
        gpus: { count: 1, devices: ["/dev/fakegpu0"] },
    }));
    const PARTS = [{ name: "gpu", default: true, maxTime: "UNLIMITED" }];
    const ACCT = { enabled: true, accounts: [{ name: "lab" }], users: [] };
    const cfg = (hosts: number, slurm: Record<string, unknown> = {}) => {
        const r = twoHosts();
        r.workstation.hosts = HOSTS.slice(0, hosts);
        Object.assign(r.workstation, { nvidia: { enabled: false }, containers: { enabled: false }, mlRuntime: { enabled: false }, acceptance: { enabled: false } });
        r.workstation.slurm = { partitions: PARTS, ...slurm };
        return r;
    };
    /** Every command step's inputs that an update compares, by name. */
    const steps = async (r: Record<string, any>) => {
        const rec = await runProgram(r, { preview: false, newResource: factsHook() });
        const pick = (i: Record<string, any>) => JSON.stringify([i.create, i.update, i.delete, i.stdin, i.connection, i.triggers]);
        return Object.fromEntries(rec.resources.filter((x) => x.type.startsWith("command:")).map((x) => [x.name, pick(rec.inputsOf(x.name))]));
    };
    /** `create X`, `update X`, `delete X` from one config to the next, leaving out what belongs to host `skip`. */
    const changes = (a: Record<string, string>, b: Record<string, string>, skip?: string) =>
        Object.keys({ ...a, ...b })
            .filter((k) => a[k] !== b[k] && !(skip && k.includes(`-${skip}-`)))
            .map((k) => `${k in a ? (k in b ? "update" : "delete") : "create"} ${k}`)
            .sort();

    test("a partition, a host added or removed, accounting on: only the Slurm config steps of the hosts that stay, the monitoring of hosts (and the new steps)", async () => {
        const two = await steps(cfg(2));
        expect(changes(two, await steps(cfg(2)))).toEqual([]);
        const parts = await steps(cfg(2, { partitions: [...PARTS, { name: "short", hosts: ["ws2"], maxTime: "1:00:00" }] }));
        expect(changes(two, parts)).toEqual(["update ws-slurm-ws1-config", "update ws-slurm-ws2-config"]);
        const three = await steps(cfg(3));
        // Monitoring follows the hosts too: Prometheus scrapes the new one, the firewall admits it.
        const monitoring = ["update ws-monitoring-ws1-firewall", "update ws-monitoring-ws1-prometheus", "update ws-monitoring-ws2-firewall"];
        expect(changes(two, three, "ws3")).toEqual([...monitoring, "update ws-slurm-ws1-config", "update ws-slurm-ws2-config"]);
        const acct = await steps(cfg(3, { accounting: ACCT }));
        expect(changes(three, acct)).toEqual([
            "create ws-slurm-accounting-accounts",
            "create ws-slurm-accounting-backup",
            "create ws-slurm-accounting-dbd",
            "create ws-slurm-accounting-retain",
            "update ws-slurm-ws1-config",
            "update ws-slurm-ws2-config",
            "update ws-slurm-ws3-config",
        ]);
        const removed = changes(acct, await steps(cfg(2, { accounting: ACCT })));
        expect(removed.filter((c) => !c.startsWith("delete "))).toEqual([...monitoring, "update ws-slurm-ws1-config", "update ws-slurm-ws2-config"]);
        expect(removed.filter((c) => c.startsWith("delete ")).every((c) => /^delete ws-(\S+-)?ws3-/.test(c))).toBe(true);
        // drainTimeout: the controller's step only.
        expect(changes(two, await steps(cfg(2, { drainTimeout: 60 })))).toEqual(["update ws-slurm-ws1-config"]);
    });
});
