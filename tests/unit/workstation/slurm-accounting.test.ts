// Slurm accounting (workstation.slurm.accounting) and GPU shards
// (hosts[].gpus.sharing): config rules, the rendered files, and the steps under
// the SDK mocks. The real-host proof is tests/testbed/slurm-accounting.test.ts.
import { containsSecret, parseConfig, runProgram } from "../../helpers/harness";
import { twoHosts } from "../../helpers/fixtures";
import { stepReceived, stepText } from "../../helpers/steps";
import { ConfigError } from "../../../config";
import {
    accountingLines,
    accountingState,
    backupService,
    backupTimer,
    dbSetupSql,
    gresConf,
    nodeLine,
    sacctmgrTime,
    slurmConf,
    slurmdbdConf,
    slurmMinutes,
    slurmNode,
} from "../../../components/workstation/slurm/conf";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { factsHook, factsOf } from "./facts";

const STEP = "command:remote:Command";

function raw(accounting: Record<string, unknown> = { enabled: true }, sharing?: { shards: number }): Record<string, any> {
    const r = twoHosts();
    r.workstation.aptProxy = "http://10.213.0.1:3128";
    r.workstation.hosts[0].gpus = { count: 1, devices: ["/dev/fakegpu0"] };
    r.workstation.hosts[1].gpus = { count: 1, devices: ["/dev/fakegpu0"], ...(sharing ? { sharing } : {}) };
    Object.assign(r.workstation, { nvidia: { enabled: false }, containers: { enabled: false }, mlRuntime: { enabled: false }, acceptance: { enabled: false } });
    r.workstation.slurm = { accounting };
    return r;
}

const FULL = {
    enabled: true,
    qos: [
        { name: "onegpu", priority: 10, maxTresPerUser: "gres/gpu=1" },
        { name: "short", maxJobsPerUser: 4, maxWall: "2-12:00:00" },
    ],
    accounts: [
        { name: "lab", fairshare: 10, description: "The lab" },
        { name: "vision", parent: "lab" },
    ],
    users: [
        { name: "alice", account: "vision", qos: ["onegpu", "normal"] },
        { name: "bob", account: "lab", fairshare: 3 },
    ],
};

function problems(r: Record<string, any>): string {
    try {
        parseConfig(r);
    } catch (e) {
        // Paths as a.b[1].c -> a.b.1.c, to keep the expectations short.
        if (e instanceof ConfigError) return e.message.replace(/\[(\d+)\]/g, ".$1");
        throw e;
    }
    return "";
}

describe("config", () => {
    test("off by default: accounting_storage/none, no slurmdbd settings accepted", () => {
        const c = parseConfig(twoHosts()).workstation.slurm;
        expect(c.accounting).toEqual({ enabled: false });
        expect(accountingLines(c, "ws1")).toEqual(["AccountingStorageType=accounting_storage/none"]);
        expect(problems(raw({ enabled: false, users: [] }))).toMatch(/slurm\.accounting.*users/);
    });

    test("defaults: retained, the controller's host, nightly dump kept 7 times", () => {
        const a = parseConfig(raw()).workstation.slurm.accounting;
        expect(a).toMatchObject({ enabled: true, retain: true, dbdPort: 6819, backup: { keep: 7, onCalendar: "*-*-* 02:30:00", dir: "/var/backups/aihpc-slurm-accounting" } });
    });

    test.each<[string, Record<string, unknown>, RegExp]>([
        ["unknown host", { enabled: true, host: "ws9" }, /slurm\.accounting\.host: unknown host 'ws9': expected one of ws1, ws2/],
        ["parent after child", { enabled: true, accounts: [{ name: "a", parent: "b" }, { name: "b" }] }, /accounts\.0\.parent: parent 'b' is not 'root' or an account listed before 'a'/],
        ["user in an unknown account", { enabled: true, users: [{ name: "alice", account: "nope" }] }, /users\.0\.account: unknown account 'nope': expected one of root/],
        ["unknown QoS", { enabled: true, users: [{ name: "alice", account: "root", qos: ["fast"] }] }, /users\.0\.qos\.0: unknown QoS 'fast': expected one of normal/],
        ["default QoS not allowed", { enabled: true, users: [{ name: "alice", account: "root", defaultQos: "normal", qos: ["normal"] }, { name: "bob", account: "root", defaultQos: "x" }] }, /users\.1\.defaultQos: 'x' is not in this user's qos \(normal\)/],
        ["redefining normal", { enabled: true, qos: [{ name: "normal" }] }, /qos\.0\.name: QoS 'normal' is Slurm's own/],
        ["user twice", { enabled: true, users: [{ name: "a", account: "root" }, { name: "a", account: "root" }] }, /users\.1\.name: user 'a' is listed twice/],
        ["root user", { enabled: true, users: [{ name: "root", account: "root" }] }, /users\.0\.name: user root is Slurm's own/],
        ["an untracked TRES", { enabled: true, qos: [{ name: "q", maxTresPerUser: "gres/shard=1" }] }, /qos\.0\.maxTresPerUser: 'gres\/shard' is not tracked: .*needs a host with gpus\.sharing/],
        ["a malformed TRES limit", { enabled: true, qos: [{ name: "q", maxTresPerUser: "gpu:1" }] }, /maxTresPerUser: expected TRES limits such as "gres\/gpu=1"/],
        ["dbdPort clash", { enabled: true, dbdPort: 6817 }, /dbdPort: dbdPort 6817 is also a Slurm daemon's port/],
    ])("refused: %s", (_what, accounting, message) => {
        expect(problems(raw(accounting))).toMatch(message);
    });

    test("the README's example parses, and renders the state it describes", () => {
        const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "..", "README.md"), "utf8");
        const section = readme.split("### Slurm accounting and GPU sharing")[1];
        const block = /```yaml\n([\s\S]*?)```/.exec(section)![1];
        const example = parseYaml(block)["aihpc:workstation"].slurm.accounting;
        const a = parseConfig(raw(example)).workstation.slurm.accounting;
        if (!a.enabled) throw new Error("the example turns accounting on");
        expect(accountingState(a).split("\n")).toEqual(expect.arrayContaining(["user|alice|vision|1|normal,onegpu|onegpu", "user|bob|lab|1|normal|normal", "account|vision|lab|5|vision"]));
        expect(a.backup).toEqual({ onCalendar: "*-*-* 02:30:00", keep: 7, dir: "/var/backups/aihpc-slurm-accounting" });
    });

    test("sharing needs a GPU on a compute host", () => {
        const r = raw({ enabled: false });
        r.workstation.hosts[1].gpus = { count: 0, sharing: { shards: 2 } };
        expect(problems(r)).toMatch(/hosts\.1\.gpus\.sharing: host 'ws2' has gpus\.count 0: there is no GPU to share/);
        const z = raw({ enabled: false }, { shards: 0 });
        expect(problems(z)).toMatch(/hosts\.1\.gpus\.sharing\.shards/);
    });
});

describe("rendered files", () => {
    const c = parseConfig(raw(FULL, { shards: 4 })).workstation;

    test("slurm.conf: slurmdbd storage with GPU and shard TRES, enforcement, multifactor fair share; shards on ws2 only", () => {
        const nodes = c.hosts.map((h) => slurmNode(h, factsOf("facts-debian12-2cpu.txt", h.name), 512));
        const conf = slurmConf({ config: c.slurm, controller: { hostname: "ws1", addr: "10.0.0.11" }, nodes, accountingHost: "10.0.0.11" });
        for (const line of [
            "AccountingStorageType=accounting_storage/slurmdbd",
            "AccountingStorageHost=10.0.0.11",
            "AccountingStoragePort=6819",
            "AccountingStorageTRES=gres/gpu,gres/shard",
            "AccountingStorageEnforce=associations,limits,qos,safe",
            "PriorityType=priority/multifactor",
            "PriorityWeightFairshare=10000",
            "PriorityDecayHalfLife=7-0",
            "GresTypes=gpu,shard",
        ]) {
            expect(conf).toContain(`${line}\n`);
        }
        expect(conf).not.toContain("accounting_storage/none");
        expect(nodeLine(nodes[0])).toMatch(/ Gres=gpu:fake:1 State=UNKNOWN$/);
        expect(nodeLine(nodes[1])).toMatch(/ Gres=gpu:fake:1,shard:4 State=UNKNOWN$/);
        expect(gresConf(nodes[1])).toBe(
            "# Managed by aihpc (Pulumi): GPUs from nvidia-smi, else workstation.hosts[].gpus.devices.\nNodeName=ws2 Name=gpu Type=fake File=/dev/fakegpu0\nNodeName=ws2 Name=shard Count=4 File=/dev/fakegpu0\n",
        );
        expect(gresConf(nodes[0])).not.toContain("shard");
    });

    test("no sharing anywhere: GresTypes=gpu and GPU TRES only", () => {
        const w = parseConfig(raw(FULL)).workstation;
        const nodes = w.hosts.map((h) => slurmNode(h, factsOf("facts-debian12-2cpu.txt", h.name), 512));
        const conf = slurmConf({ config: w.slurm, controller: { hostname: "ws1" }, nodes, accountingHost: "ws1" });
        expect(conf).toContain("GresTypes=gpu\n");
        expect(conf).toContain("AccountingStorageTRES=gres/gpu\n");
    });

    test("slurmdbd.conf: MariaDB over localhost with the given password; a password that would break the file is refused", () => {
        const a = c.slurm.accounting;
        if (!a.enabled) throw new Error("accounting is on");
        const conf = slurmdbdConf({ hostname: "ws1", config: a, storagePass: "Abc123" });
        expect(conf.split("\n")).toEqual(expect.arrayContaining(["DbdHost=ws1", "DbdPort=6819", "StorageType=accounting_storage/mysql", "StorageLoc=slurm_acct_db", "StorageUser=slurm", "StoragePass=Abc123", "AuthType=auth/munge"]));
        expect(() => slurmdbdConf({ hostname: "ws1", config: a, storagePass: "a b" })).toThrow(/storage password/);
        expect(dbSetupSql("Abc123")).toContain("ALTER USER 'slurm'@'localhost' IDENTIFIED BY 'Abc123';\nGRANT ALL ON `slurm_acct_db`.* TO 'slurm'@'localhost';");
        expect(dbSetupSql("a'b\\c")).toContain("IDENTIFIED BY 'a\\'b\\\\c';");
        expect(backupService(a)).toContain("Environment=BACKUP_DIR=/var/backups/aihpc-slurm-accounting BACKUP_KEEP=7 DB=slurm_acct_db\n");
        expect(backupTimer(a)).toContain("OnCalendar=*-*-* 02:30:00\nPersistent=true\n");
    });

    test("the desired state as sacctmgr prints it: parents first, QoS lists sorted, MaxWall as D-HH:MM:SS", () => {
        const a = c.slurm.accounting;
        if (!a.enabled) throw new Error("accounting is on");
        expect(accountingState(a)).toBe(
            [
                "qos|onegpu|10|gres/gpu=1|||",
                "qos|short|0||4||2-12:00:00",
                "account|lab|root|10|The lab",
                "account|vision|lab|1|vision",
                "user|alice|vision|1|normal,onegpu|onegpu",
                "user|bob|lab|3|normal|normal",
                "",
            ].join("\n"),
        );
        expect([slurmMinutes("90"), slurmMinutes("4:00:00"), slurmMinutes("1-0"), slurmMinutes("30:30")]).toEqual([90, 240, 1440, 31]);
        expect([sacctmgrTime(90), sacctmgrTime(240), sacctmgrTime(1440 * 2 + 61)]).toEqual(["01:30:00", "04:00:00", "2-01:01:00"]);
    });
});

describe("steps under mocks", () => {
    test("accounting steps on the controller: slurmdbd before slurmctld, accounts after; the password only in secret stdin", async () => {
        const rec = await runProgram(raw(FULL, { shards: 2 }), { preview: false, newResource: factsHook() });
        const names = rec.ofType(STEP).map((r) => r.name);
        expect(names.filter((n) => n.startsWith("ws-slurm-accounting-")).sort()).toEqual(
            ["accounts", "backup", "dbd", "retain"].map((s) => `ws-slurm-accounting-${s}`),
        );
        const deps = (n: string) => rec.named(n).dependencies;
        const urn = (n: string) => rec.named(n).urn;
        expect(deps("ws-slurm-ws1-config")).toEqual(expect.arrayContaining([urn("ws-slurm-accounting-dbd")]));
        expect(deps("ws-slurm-accounting-dbd")).toEqual(expect.arrayContaining([urn("ws-slurm-accounting-retain"), urn("ws-slurm-ws1-munge")]));
        expect(deps("ws-slurm-accounting-accounts")).toEqual(expect.arrayContaining([urn("ws-slurm-ws1-config"), urn("ws-slurm-accounting-dbd")]));
        expect(deps("ws-slurm-accounting-backup")).toEqual(expect.arrayContaining([urn("ws-slurm-accounting-dbd")]));

        const password = rec.named("ws-slurm-accounting-db-password").state.result as string;
        expect(password.length).toBeGreaterThanOrEqual(16);
        const dbd = rec.named("ws-slurm-accounting-dbd");
        expect(containsSecret(dbd.inputs.stdin)).toBe(true);
        const got = stepReceived(rec.inputsOf(dbd.name));
        expect(got.stdin).toBe(password);
        expect(got.vars.SLURMDBD_CONF).toContain(`StoragePass=${password}`);
        expect(got.vars.SACCTMGR_CONF).toContain("AccountingStorageHost=10.0.0.11");
        for (const r of rec.ofType(STEP)) {
            const i = rec.inputsOf(r.name);
            for (const field of ["create", "update", "delete"]) expect(String(i[field] ?? "")).not.toContain(password);
            if (r.name !== "ws-slurm-accounting-dbd") expect(JSON.stringify(i.stdin ?? "")).not.toContain(password);
        }
        const conf = stepText(rec.inputsOf("ws-slurm-ws2-config"));
        expect(conf).toContain("AccountingStorageType=accounting_storage/slurmdbd");
        expect(conf).toContain("NodeName=ws2 Name=shard Count=2 File=/dev/fakegpu0");
        expect(stepReceived(rec.inputsOf("ws-slurm-accounting-accounts")).vars.STATE).toContain("user|alice|vision|1|normal,onegpu|onegpu");
    });

    test("accounting on another host: its steps run there; slurm.conf points at it", async () => {
        const rec = await runProgram(raw({ enabled: true, host: "ws2" }), { preview: false, newResource: factsHook() });
        expect(stepText(rec.inputsOf("ws-slurm-ws1-config"))).toContain("AccountingStorageHost=10.0.0.12\n");
        expect(JSON.stringify(rec.inputsOf("ws-slurm-accounting-dbd").connection)).toContain('"host":"10.0.0.12"');
    });
});
