// The power-save programs (components/hybrid/cloud-nodes/scripts) run for real
// with python3, against stub `scontrol`, `curl` and `gcloud` on PATH: the
// exact Compute Engine requests, zone failover, back-off and the reconciler's
// decisions. No Google Cloud here: the stubs answer as the API documents.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPTS = path.resolve(__dirname, "../../../components/hybrid/cloud-nodes/scripts");
const TEMPLATE = "projects/test-project-1/global/instanceTemplates/aihpc-gcp-cn-20261202";
const T0 = 1_800_000_000; // the pinned clock
const ZONE = (z: string) => `https://compute.googleapis.com/compute/v1/projects/test-project-1/zones/${z}`;
const INSERT = (z: string) => `${ZONE(z)}/instances?sourceInstanceTemplate=${encodeURIComponent(TEMPLATE)}`;
// Python's quote() escapes '*' too (encodeURIComponent would not).
const FILTER = "name%20eq%20%22aihpc-gcp-cn-.%2A%22";
const TOKEN = "ya29.stub-token-never-in-argv";

// scontrol: expands simple host lists, prints the node table of $STUB/nodes, logs every call.
const SCONTROL = `#!/usr/bin/python3
import os, re, sys
stub = os.environ["STUB"]
a = sys.argv[1:]
with open(os.path.join(stub, "scontrol.log"), "a") as f: f.write(" ".join(a) + "\\n")
if a[:2] == ["show", "hostnames"]:
    for part in re.findall(r"[^,\\[]+(?:\\[[^\\]]*\\])?", a[2]):
        m = re.match(r"(.*)\\[(\\d+)-(\\d+)\\]$", part)
        print("\\n".join(f"{m.group(1)}{i}" for i in range(int(m.group(2)), int(m.group(3)) + 1)) if m else part)
elif a[:3] == ["-o", "show", "node"]:
    p = os.path.join(stub, "nodes")
    if os.path.exists(p): print(open(p).read(), end="")
`;

// curl: logs METHOD URL, the JSON body, whether the token came on stdin (and never in argv); answers from $STUB/responses in order.
const CURL = `#!/usr/bin/python3
import json, os, sys
stub = os.environ["STUB"]
a = sys.argv[1:]
method = a[a.index("-X") + 1]
url = a[-1]
body = None
if "--data-binary" in a:
    body = open(a[a.index("--data-binary") + 1][1:]).read()
cfg = sys.stdin.read()
with open(os.path.join(stub, "curl.log"), "a") as f:
    f.write(json.dumps({"method": method, "url": url, "body": json.loads(body) if body else None,
                        "tokenOnStdin": "Authorization: Bearer ${TOKEN}" in cfg, "tokenInArgv": any("${TOKEN}" in x for x in a)}) + "\\n")
queue = json.load(open(os.path.join(stub, "responses")))
n = int(open(os.path.join(stub, "n")).read()) if os.path.exists(os.path.join(stub, "n")) else 0
open(os.path.join(stub, "n"), "w").write(str(n + 1))
code, resp = queue[n] if n < len(queue) else [500, {"error": {"message": "stub: no more responses"}}]
print(json.dumps(resp))
print(code, end="")
`;

interface Run {
    code: number;
    stdout: string;
    stderr: string;
    curl: { method: string; url: string; body: any; tokenOnStdin: boolean; tokenInArgv: boolean }[];
    scontrol: string[];
    stub: string;
}

function setup(opts: { zones?: string[]; nodes?: string; responses?: [number, any][]; backend?: Record<string, string> } = {}): string {
    const stub = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-cloud-"));
    const bin = path.join(stub, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "scontrol"), SCONTROL, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "curl"), CURL, { mode: 0o755 });
    // The token only for SlurmUser's credential copy, with gcloud's state in the program's own folder.
    fs.writeFileSync(
        path.join(bin, "gcloud"),
        `#!/bin/sh\n[ "$*" = "auth print-access-token" ] && [ "$CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE" = "${stub}/cred.json" ] && [ "$CLOUDSDK_CONFIG" = "${stub}/state/gcloud" ] && echo ${TOKEN}\n`,
        { mode: 0o755 },
    );
    fs.writeFileSync(path.join(stub, "responses"), JSON.stringify(opts.responses ?? []));
    if (opts.nodes !== undefined) fs.writeFileSync(path.join(stub, "nodes"), opts.nodes);
    const config = {
        backend: "gce",
        project: "test-project-1",
        zones: opts.zones ?? ["europe-west4-a", "europe-west4-b"],
        template: TEMPLATE,
        nodePrefix: "aihpc-gcp-cn-",
        partition: "cloud",
        backoffSeconds: 1800,
        orphanGraceSeconds: 600,
        stateDir: path.join(stub, "state"),
        metricsFile: path.join(stub, "textfile", "aihpc_cloud_nodes.prom"),
        credentialFile: path.join(stub, "cred.json"),
        ...(opts.backend ?? {}),
    };
    fs.writeFileSync(path.join(stub, "config.json"), JSON.stringify(config));
    return stub;
}

function run(stub: string, program: string, args: string[], now = T0): Run {
    const r = spawnSync(path.join(SCRIPTS, program), args, {
        env: { PATH: `${path.join(stub, "bin")}:/usr/bin:/bin`, STUB: stub, AIHPC_CLOUD_CONFIG: path.join(stub, "config.json"), AIHPC_CLOUD_NOW: String(now) },
        encoding: "utf8",
    });
    const lines = (f: string) => (fs.existsSync(path.join(stub, f)) ? fs.readFileSync(path.join(stub, f), "utf8").trim().split("\n").filter(Boolean) : []);
    // Each run reads its own log: clear them for the next.
    const out = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, curl: lines("curl.log").map((l) => JSON.parse(l)), scontrol: lines("scontrol.log"), stub };
    for (const f of ["curl.log", "scontrol.log", "n"]) fs.rmSync(path.join(stub, f), { force: true });
    return out;
}

const requests = (r: Run) => r.curl.map((c) => `${c.method} ${c.url}`);
// Each failed resume ends the power-up, then sets DOWN with the same reason.
const downs = (r: Run) => {
    const u = r.scontrol.filter((l) => l.startsWith("update"));
    for (const l of u.filter((x) => x.includes("state=down"))) expect(u.map((x) => x.trimEnd())).toContain(l.replace("state=down", "state=power_down_force").trimEnd());
    return u.filter((l) => !l.includes("state=power_down_force"));
};
const opDone = (name: string): [number, any] => [200, { name, status: "DONE" }];
const stockout: [number, any] = [200, { name: "op-x", status: "DONE", error: { errors: [{ code: "ZONE_RESOURCE_POOL_EXHAUSTED", message: "The zone does not have enough resources available" }] } }];
const quota: [number, any] = [403, { error: { code: 403, message: "Quota exceeded", errors: [{ reason: "quotaExceeded", message: "Quota 'NVIDIA_L4_GPUS' exceeded. Limit: 0.0 in region europe-west4." }] } }];

beforeAll(() => {
    execFileSync("python3", ["--version"]);
});

describe("--dry-run prints the exact requests", () => {
    test("resume: one insert from the template per node, then the operation wait; nothing sent", () => {
        const stub = setup();
        const d = spawnSync(path.join(SCRIPTS, "aihpc-cloud-nodes"), ["--dry-run", "resume", "aihpc-gcp-cn-[1-2]"], {
            env: { PATH: `${path.join(stub, "bin")}:/usr/bin:/bin`, STUB: stub, AIHPC_CLOUD_CONFIG: path.join(stub, "config.json"), AIHPC_CLOUD_NOW: String(T0) },
            encoding: "utf8",
        });
        expect(d.status).toBe(0);
        expect(d.stdout.trim().split("\n")).toEqual([
            `POST ${INSERT("europe-west4-a")}`,
            `{"name": "aihpc-gcp-cn-1"}`,
            `POST ${ZONE("europe-west4-a")}/operations/dry-run/wait`,
            `POST ${INSERT("europe-west4-a")}`,
            `{"name": "aihpc-gcp-cn-2"}`,
            `POST ${ZONE("europe-west4-a")}/operations/dry-run/wait`,
        ]);
        expect(fs.existsSync(path.join(stub, "curl.log"))).toBe(false);
    });

    test("suspend: a delete in every zone when the zone is not known", () => {
        const stub = setup();
        const d = spawnSync(path.join(SCRIPTS, "aihpc-cloud-nodes"), ["--dry-run", "suspend", "aihpc-gcp-cn-3"], {
            env: { PATH: `${path.join(stub, "bin")}:/usr/bin:/bin`, STUB: stub, AIHPC_CLOUD_CONFIG: path.join(stub, "config.json") },
            encoding: "utf8",
        });
        expect(d.status).toBe(0);
        expect(d.stdout.trim().split("\n")).toEqual([`DELETE ${ZONE("europe-west4-a")}/instances/aihpc-gcp-cn-3`, `DELETE ${ZONE("europe-west4-b")}/instances/aihpc-gcp-cn-3`]);
    });
});

describe("resume against the API (stub curl)", () => {
    test("created in the first zone: the token goes on curl's stdin, never in argv; the zone is remembered for suspend", () => {
        const stub = setup({ responses: [opDone("op-1"), opDone("op-1")] });
        const r = run(stub, "aihpc-cloud-resume", ["aihpc-gcp-cn-1"]);
        expect([r.code, r.stderr]).toEqual([0, expect.stringContaining("aihpc-gcp-cn-1: created in europe-west4-a")]);
        expect(requests(r)).toEqual([`POST ${INSERT("europe-west4-a")}`, `POST ${ZONE("europe-west4-a")}/operations/op-1/wait`]);
        expect(r.curl[0].body).toEqual({ name: "aihpc-gcp-cn-1" });
        expect(r.curl.every((c) => c.tokenOnStdin && !c.tokenInArgv)).toBe(true);
        expect(downs(r)).toEqual([]);
        const s = run(stub, "aihpc-cloud-suspend", ["aihpc-gcp-cn-1"]);
        expect(requests(s)).toEqual([`DELETE ${ZONE("europe-west4-a")}/instances/aihpc-gcp-cn-1`]);
    });

    test("a stockout in the first zone fails over to the next", () => {
        const stub = setup({ responses: [opDone("op-x"), stockout, opDone("op-2"), opDone("op-2")] });
        const r = run(stub, "aihpc-cloud-resume", ["aihpc-gcp-cn-2"]);
        expect(r.code).toBe(0);
        expect(requests(r)).toEqual([
            `POST ${INSERT("europe-west4-a")}`,
            `POST ${ZONE("europe-west4-a")}/operations/op-x/wait`,
            `POST ${INSERT("europe-west4-b")}`,
            `POST ${ZONE("europe-west4-b")}/operations/op-2/wait`,
        ]);
        expect(r.stderr).toContain("europe-west4-a: ZONE_RESOURCE_POOL_EXHAUSTED");
        expect(downs(r)).toEqual([]);
    });

    test("every zone fails: DOWN with the cloud's reasons, a back-off, and no retry while it lasts", () => {
        const stub = setup({ responses: [opDone("op-x"), stockout, quota] });
        const r = run(stub, "aihpc-cloud-resume", ["aihpc-gcp-cn-1"]);
        expect(r.code).toBe(1);
        expect(requests(r)).toHaveLength(3);
        expect(downs(r)).toEqual([
            "update nodename=aihpc-gcp-cn-1 state=down reason=aihpc-cloud: resume failed, back-off until 2027-01-15T08:30:00Z: europe-west4-a: ZONE_RESOURCE_POOL_EXHAUSTED; europe-west4-b: quotaExceeded",
        ]);
        // The cloud's full messages: in the log and in the state.
        expect(r.stderr).toContain("europe-west4-b: quotaExceeded: Quota 'NVIDIA_L4_GPUS' exceeded. Limit: 0.0 in region europe-west4.");
        const state = JSON.parse(fs.readFileSync(path.join(stub, "state", "aihpc-gcp-cn-1.json"), "utf8"));
        expect(state).toMatchObject({ failures: 1, backoffUntil: T0 + 1800 });
        expect(state.lastError).toBe(
            "europe-west4-a: ZONE_RESOURCE_POOL_EXHAUSTED: The zone does not have enough resources available; europe-west4-b: quotaExceeded: Quota 'NVIDIA_L4_GPUS' exceeded. Limit: 0.0 in region europe-west4.",
        );
        // Slurm asks again within the back-off: nothing is created, the node stays DOWN.
        const again = run(stub, "aihpc-cloud-resume", ["aihpc-gcp-cn-1"], T0 + 600);
        expect([again.code, requests(again)]).toEqual([1, []]);
        expect(downs(again)).toEqual([expect.stringMatching(/^update nodename=aihpc-gcp-cn-1 state=down reason=aihpc-cloud: in back-off after/)]);
    });

    test("consecutive failures double the back-off, at most 16x", () => {
        const stub = setup({ zones: ["europe-west4-a"], responses: Array(10).fill(quota) });
        let t = T0;
        const waits: number[] = [];
        for (let i = 0; i < 6; i++) {
            const r = run(stub, "aihpc-cloud-resume", ["aihpc-gcp-cn-1"], t);
            expect(requests(r)).toEqual([`POST ${INSERT("europe-west4-a")}`]);
            const until = JSON.parse(fs.readFileSync(path.join(stub, "state", "aihpc-gcp-cn-1.json"), "utf8")).backoffUntil;
            waits.push(until - t);
            t = until;
            fs.writeFileSync(path.join(stub, "responses"), JSON.stringify(Array(10).fill(quota)));
        }
        expect(waits).toEqual([1800, 3600, 7200, 14400, 28800, 28800]);
    });

    test("an instance that already exists counts as created (Slurm may resume twice)", () => {
        const stub = setup({ responses: [[409, { error: { code: 409, message: "already exists" } }]] });
        const r = run(stub, "aihpc-cloud-resume", ["aihpc-gcp-cn-1"]);
        expect([r.code, requests(r), downs(r)]).toEqual([0, [`POST ${INSERT("europe-west4-a")}`], []]);
    });

    test("no token: the node goes DOWN with the reason instead of waiting for ResumeTimeout", () => {
        const stub = setup();
        fs.writeFileSync(path.join(stub, "bin", "gcloud"), "#!/bin/sh\necho 'ERROR: (gcloud.auth) no credentials' >&2\nexit 1\n", { mode: 0o755 });
        const r = run(stub, "aihpc-cloud-resume", ["aihpc-gcp-cn-1"]);
        expect(r.code).toBe(1);
        expect(downs(r)).toEqual([expect.stringContaining("no access token from 'gcloud auth print-access-token': ERROR: (gcloud.auth) no credentials")]);
    });

    test("names outside the stack's prefix are refused before any request", () => {
        const stub = setup();
        const r = run(stub, "aihpc-cloud-suspend", ["ws1"]);
        expect([r.code, requests(r)]).toEqual([2, []]);
        expect(r.stderr).toContain("not cloud nodes of this stack");
    });
});

describe("resume-fail", () => {
    test("deletes the instance that did not register and starts the back-off", () => {
        const stub = setup({ responses: [opDone("op-1"), opDone("op-1"), [200, { name: "op-d" }]] });
        run(stub, "aihpc-cloud-resume", ["aihpc-gcp-cn-1"]);
        const r = run(stub, "aihpc-cloud-resume-fail", ["aihpc-gcp-cn-1"]);
        expect(r.code).toBe(0);
        expect(requests(r)).toEqual([`DELETE ${ZONE("europe-west4-a")}/instances/aihpc-gcp-cn-1`]);
        expect(downs(r)).toEqual([expect.stringMatching(/^update nodename=aihpc-gcp-cn-1 state=down reason=aihpc-cloud: resume failed, back-off until \S+Z: did not register within ResumeTimeout$/)]);
    });
});

describe("reconcile", () => {
    const node = (name: string, state: string, reason = "") => `NodeName=${name} Arch=x86_64 CoresPerSocket=1 State=${state} ThreadsPerCore=1${reason ? ` Reason=${reason} [slurm@2026-12-02T10:00:00]` : ""}`;
    const inst = (name: string, created: string) => ({ name, creationTimestamp: created, status: "RUNNING" });
    const old = "2027-01-14T23:00:00.000-08:00"; // T0 is 2027-01-15T08:00:00Z: an hour earlier
    const fresh = new Date((T0 - 60) * 1000).toISOString().replace("Z", "+00:00");

    test("deletes instances Slurm does not account for, keeps the rest, and writes the metric", () => {
        const stub = setup({
            nodes: [node("aihpc-gcp-cn-1", "ALLOCATED+CLOUD"), node("aihpc-gcp-cn-2", "IDLE+CLOUD+POWERED_DOWN"), node("aihpc-gcp-cn-3", "IDLE+CLOUD+POWERED_DOWN"), node("ws1", "IDLE")].join("\n") + "\n",
            responses: [
                [200, { items: [inst("aihpc-gcp-cn-1", old), inst("aihpc-gcp-cn-2", old), inst("aihpc-gcp-cn-3", fresh)] }],
                [200, { name: "op-d1" }],
                [200, { items: [inst("aihpc-gcp-cn-9", old)] }],
                [200, { name: "op-d2" }],
            ],
        });
        const r = run(stub, "aihpc-cloud-nodes", ["reconcile"]);
        expect(r.code).toBe(0);
        expect(requests(r)).toEqual([
            `GET ${ZONE("europe-west4-a")}/instances?filter=${FILTER}`,
            `DELETE ${ZONE("europe-west4-a")}/instances/aihpc-gcp-cn-2`,
            `GET ${ZONE("europe-west4-b")}/instances?filter=${FILTER}`,
            `DELETE ${ZONE("europe-west4-b")}/instances/aihpc-gcp-cn-9`,
        ]);
        expect(r.stderr).toContain("aihpc-gcp-cn-3 (europe-west4-a): not accounted for but only 60s old");
        const prom = fs.readFileSync(path.join(stub, "textfile", "aihpc_cloud_nodes.prom"), "utf8");
        expect(prom).toContain("aihpc_cloud_nodes_orphans_deleted_total 2\n");
        expect(prom).toContain("aihpc_cloud_nodes_instances 2\n");
        expect(prom).toContain(`aihpc_cloud_nodes_reconcile_timestamp_seconds ${T0}\n`);
        expect(prom).toContain("aihpc_cloud_nodes_reconcile_errors 0\n");
        // The counter survives runs.
        fs.writeFileSync(path.join(stub, "responses"), JSON.stringify([[200, { items: [inst("aihpc-gcp-cn-7", old)] }], [200, { name: "op" }], [200, {}]]));
        run(stub, "aihpc-cloud-nodes", ["reconcile"]);
        expect(fs.readFileSync(path.join(stub, "textfile", "aihpc_cloud_nodes.prom"), "utf8")).toContain("aihpc_cloud_nodes_orphans_deleted_total 3\n");
    });

    test("returns a node to service only after its back-off, and only one it put DOWN", () => {
        const stub = setup({
            zones: ["europe-west4-a"],
            nodes: [node("aihpc-gcp-cn-1", "DOWN+CLOUD+POWERED_DOWN", "aihpc-cloud: quota"), node("aihpc-gcp-cn-2", "DOWN+CLOUD+POWERED_DOWN", "admin: bad disk")].join("\n") + "\n",
            responses: [[200, {}], [200, {}]],
        });
        fs.mkdirSync(path.join(stub, "state"));
        fs.writeFileSync(path.join(stub, "state", "aihpc-gcp-cn-1.json"), JSON.stringify({ failures: 1, backoffUntil: T0 + 100 }));
        const during = run(stub, "aihpc-cloud-nodes", ["reconcile"]);
        expect(downs(during)).toEqual([]);
        expect(fs.readFileSync(path.join(stub, "textfile", "aihpc_cloud_nodes.prom"), "utf8")).toContain("aihpc_cloud_nodes_backoff 1\n");
        const after = run(stub, "aihpc-cloud-nodes", ["reconcile"], T0 + 101);
        expect(downs(after)).toEqual(["update nodename=aihpc-gcp-cn-1 state=resume"]);
    });

    test("a node Slurm lost (preempted) is returned once its instance is gone; not while it exists", () => {
        const stub = setup({
            zones: ["europe-west4-a"],
            nodes: [node("aihpc-gcp-cn-1", "DOWN+CLOUD", "Not responding"), node("aihpc-gcp-cn-2", "DOWN+CLOUD", "Not responding")].join("\n") + "\n",
            responses: [[200, { items: [{ name: "aihpc-gcp-cn-2", creationTimestamp: old }] }]],
        });
        const r = run(stub, "aihpc-cloud-nodes", ["reconcile"]);
        expect(downs(r)).toEqual(["update nodename=aihpc-gcp-cn-1 state=resume"]);
        // cn-2's instance is accounted for (Slurm has it, not powered down): neither deleted nor returned.
        expect(requests(r)).toEqual([`GET ${ZONE("europe-west4-a")}/instances?filter=${FILTER}`]);
    });

    test("when Slurm cannot be asked, nothing is deleted", () => {
        const stub = setup({ responses: [[200, { items: [inst("aihpc-gcp-cn-1", old)] }]] });
        fs.writeFileSync(path.join(stub, "bin", "scontrol"), "#!/bin/sh\necho 'slurm_load_node error: Unable to contact slurm controller' >&2\nexit 1\n", { mode: 0o755 });
        const r = run(stub, "aihpc-cloud-nodes", ["reconcile"]);
        expect([r.code, requests(r)]).toEqual([1, []]);
    });

    test("a list error is counted and fails the run", () => {
        const stub = setup({ zones: ["europe-west4-a"], nodes: "", responses: [[403, { error: { code: 403, message: "Required 'compute.instances.list' permission" } }]] });
        const r = run(stub, "aihpc-cloud-nodes", ["reconcile"]);
        expect(r.code).toBe(1);
        expect(fs.readFileSync(path.join(stub, "textfile", "aihpc_cloud_nodes.prom"), "utf8")).toContain("aihpc_cloud_nodes_reconcile_errors 1\n");
    });
});

describe("teardown", () => {
    test("deletes every cloud node in every zone and waits for each", () => {
        const stub = setup({
            responses: [
                [200, { items: [{ name: "aihpc-gcp-cn-1" }, { name: "other-vm" }] }],
                [200, { name: "op-d1" }],
                opDone("op-d1"),
                [200, { items: [{ name: "aihpc-gcp-cn-4" }] }],
                [404, { error: { code: 404, message: "gone" } }],
            ],
        });
        const r = run(stub, "aihpc-cloud-nodes", ["teardown"]);
        expect(r.code).toBe(0);
        expect(requests(r)).toEqual([
            `GET ${ZONE("europe-west4-a")}/instances?filter=${FILTER}`,
            `DELETE ${ZONE("europe-west4-a")}/instances/aihpc-gcp-cn-1`,
            `POST ${ZONE("europe-west4-a")}/operations/op-d1/wait`,
            `GET ${ZONE("europe-west4-b")}/instances?filter=${FILTER}`,
            `DELETE ${ZONE("europe-west4-b")}/instances/aihpc-gcp-cn-4`,
        ]);
    });

    test("fails while an instance is left, so the template and identities stay", () => {
        const stub = setup({ zones: ["europe-west4-a"], responses: [[200, { items: [{ name: "aihpc-gcp-cn-1" }] }], [200, { name: "op-d1" }], [200, { name: "op-d1", status: "RUNNING" }]] });
        const r = run(stub, "aihpc-cloud-nodes", ["teardown"]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("still there: aihpc-gcp-cn-1");
    });
});

describe("the testbed backend (the project's own real-host tests)", () => {
    const API = "http://10.213.0.1:8780/compute/v1";
    test("the same requests to the stand-in, with no credential at all", () => {
        const stub = setup({ responses: [quota, opDone("op-2"), opDone("op-2")], backend: { backend: "testbed", testbedApi: API } });
        // A gcloud that would fail the run if asked.
        fs.writeFileSync(path.join(stub, "bin", "gcloud"), "#!/bin/sh\necho gcloud-called >&2\nexit 9\n", { mode: 0o755 });
        const r = run(stub, "aihpc-cloud-resume", ["aihpc-gcp-cn-1"]);
        expect([r.code, r.stderr]).toEqual([0, expect.stringContaining("aihpc-gcp-cn-1: created in europe-west4-b")]);
        const z = (zone: string) => `${API}/projects/test-project-1/zones/${zone}`;
        expect(requests(r)).toEqual([
            `POST ${z("europe-west4-a")}/instances?sourceInstanceTemplate=${encodeURIComponent(TEMPLATE)}`,
            `POST ${z("europe-west4-b")}/instances?sourceInstanceTemplate=${encodeURIComponent(TEMPLATE)}`,
            `POST ${z("europe-west4-b")}/operations/op-2/wait`,
        ]);
        expect(r.curl.every((c) => !c.tokenOnStdin)).toBe(true);
        expect(r.stderr).not.toContain("gcloud-called");
    });

    test("refused unless the stand-in is on a private address: nothing is sent", () => {
        for (const url of ["http://8.8.8.8:8780/compute/v1", "https://compute.googleapis.com/compute/v1", ""]) {
            const stub = setup({ responses: [opDone("op-1")], backend: { backend: "testbed", testbedApi: url } });
            const r = run(stub, "aihpc-cloud-resume", ["aihpc-gcp-cn-1"]);
            expect(r.code).toBe(1);
            expect(r.stderr).toContain(`backend 'testbed' needs testbedApi 'http://<private IPv4>:<port>/compute/v1', got '${url}'`);
            expect(r.curl).toEqual([]);
        }
    });
});
