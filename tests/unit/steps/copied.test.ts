// Stack files (components/steps/copied.ts): slurm.conf reaches every host as a
// copy named by its hash, so a host's step inputs (and state) stay the same size
// however many nodes the cluster has; lib.sh checks and keeps the copy.
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stepPayload } from "../../../components/steps";
import { STEP_SCRIPTS_DIR } from "../../../components/steps/bundle";
import { stackFile } from "../../../components/steps/copied";
import { runProgram, Recorded } from "../../helpers/harness";
import { UNKNOWN_VALUE } from "../../../tools/plan/recorder";
import { HOST_KEY_1 } from "../../helpers/fixtures";
import { TEST_PRIVATE_KEY } from "../../helpers/ssh-keys";
import { stepReceived } from "../../helpers/steps";
import { requireRoot } from "../../helpers/tools";
import { factsHook } from "../workstation/facts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function cluster(n: number): Record<string, any> {
    const hosts = Array.from({ length: n }, (_, i) => ({
        name: `ws${i + 1}`,
        address: `10.0.0.${11 + i}`,
        hostKey: HOST_KEY_1,
        roles: i === 0 ? ["controller", "compute"] : ["compute"],
        gpus: { count: 1 },
    }));
    return { workstation: { hosts }, sshPrivateKey: TEST_PRIVATE_KEY };
}

describe("slurm.conf as a stack file", () => {
    let small: Recorded;
    let large: Recorded;
    beforeAll(async () => {
        small = await runProgram(cluster(2), { preview: false, newResource: factsHook() });
        large = await runProgram(cluster(8), { preview: false, newResource: factsHook() });
    }, 120_000);

    test("every host's config step names the one slurm.conf by hash, and reads the whole cluster from it", () => {
        const shas = new Set<string>();
        for (let i = 1; i <= 8; i++) {
            const inputs = large.inputsOf(`ws-slurm-ws${i}-config`);
            const copied = /^-copied SLURM_CONF=(\S+)@([0-9a-f]{64})$/m.exec(inputs.stdin);
            expect(copied).not.toBeNull();
            expect(copied![1]).toBe(`/var/tmp/aihpc-file-${copied![2].slice(0, 16)}`);
            shas.add(copied![2]);
            const conf = stepReceived(inputs).vars.SLURM_CONF;
            expect(conf.match(/^NodeName=ws\d+ /gm)).toHaveLength(8);
            // As fileText leaves it (no trailing newline; config.sh's aihpc_put writes one).
            expect(sha(conf)).toBe(copied![2]);
            // The copy it waits for carries the file by path and hash, not its text.
            const copy = large.named(`ws-slurm-ws${i}-conf-copy`);
            expect(copy.dependencies).not.toContain(large.named(`ws-slurm-ws${i}-config`).urn);
            expect(large.named(`ws-slurm-ws${i}-config`).dependencies).toContain(copy.urn);
            expect(copy.inputs.remotePath).toBe(copied![1]);
            expect(fs.readFileSync((copy.inputs.source as { path: string }).path, "utf8")).toBe(conf);
        }
        expect(shas.size).toBe(1);
    });

    test("a host's config step is the same size, with as many dependencies, in a cluster of 2 and of 8: the state per host does not grow with the cluster", () => {
        const size = (r: Recorded, h: string) => JSON.stringify(r.inputsOf(`ws-slurm-${h}-config`)).length;
        expect(size(large, "ws2")).toBe(size(small, "ws2"));
        expect(size(large, "ws1")).toBe(size(small, "ws1"));
        // Nor their dependencies (Pulumi's state lists them): the one `ws-slurm-conf` join, not every host's probe.
        for (const n of ["ws-slurm-ws2-config", "ws-slurm-ws2-conf-copy", "ws-ws2-bundle-copy"]) {
            expect([n, large.named(n).dependencies.length]).toEqual([n, small.named(n).dependencies.length]);
            expect(large.named(n).dependencies).not.toContain(large.named("ws-ws8-facts").urn);
        }
        const joined = large.named("ws-slurm-conf");
        expect(joined.type).toBe("command:local:Command");
        expect(large.inputsOf("ws-slurm-conf").create).toBeUndefined();
        for (let i = 1; i <= 8; i++) expect(joined.dependencies).toContain(large.named(`ws-ws${i}-facts`).urn);
        expect(large.named("ws-slurm-ws2-conf-copy").dependencies).toContain(joined.urn);
        // What does grow is the one file, written once for the stack.
        const conf = (r: Recorded) => stepReceived(r.inputsOf("ws-slurm-ws2-config")).vars.SLURM_CONF.length;
        expect(conf(large)).toBeGreaterThan(conf(small) + 6 * 50);
    });

    test("the preview keeps the command known; only the stdin waits for the facts", async () => {
        const preview = await runProgram(cluster(2), { preview: true });
        const config = preview.named("ws-slurm-ws2-config").inputs;
        expect(config.create).toMatch(/ bash \/var\/lib\/aihpc\/bundle\/[0-9a-f]{16}\/lib\.sh /);
        expect(config.stdin).toBe(UNKNOWN_VALUE);
    }, 60_000);
});

describe("stack files and the payload", () => {
    test("a stack file is written once, by its hash", () => {
        const a = stackFile("test.conf", "one\n");
        expect(a.sha256).toBe(sha("one\n"));
        expect(path.basename(a.file)).toBe(`test.conf-${a.sha256.slice(0, 16)}`);
        expect(stackFile("test.conf", "one\n")).toEqual(a);
        expect(() => stackFile("Bad Name", "x")).toThrow(/stack file name 'Bad Name' must be \[a-z0-9.-\] only/);
    });

    test("the payload names each copied file by path and hash, and refuses what lib.sh could not split", () => {
        const good = { path: "/var/tmp/aihpc-file-0123456789abcdef", sha256: "a".repeat(64) };
        expect(stepPayload({ X: "x" }, undefined, { SLURM_CONF: good }).split("\n")).toEqual([
            "aihpc-payload 1",
            `X ${Buffer.from("x").toString("base64")}`,
            `-copied SLURM_CONF=${good.path}@${good.sha256}`,
            "",
        ]);
        expect(() => stepPayload({}, undefined, { SLURM_CONF: { ...good, path: "/home/my project/.aihpc/x" } })).toThrow(/path '\/home\/my project\/.aihpc\/x' must be absolute and of/);
        expect(() => stepPayload({}, undefined, { SLURM_CONF: { ...good, sha256: "abc" } })).toThrow(/its sha256 64 hex digits/);
    });
});

describe("lib.sh keeps a copied file, run for real", () => {
    let tmp: string;
    const run = (payload: string, action: "apply" | "delete", filesDir: string) =>
        spawnSync("bash", [path.join(tmp, "lib.sh"), path.join(tmp, "step.sh")], {
            input: payload,
            encoding: "utf8",
            env: { ...process.env, OUT: path.join(tmp, "out"), AIHPC_ACTION: action, AIHPC_PAYLOAD: "1", AIHPC_COPIED_DIR: filesDir },
        });
    beforeAll(() => {
        requireRoot(); // lib.sh refuses to run as anyone else, as on a host
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-copied-"));
        fs.copyFileSync(path.join(STEP_SCRIPTS_DIR, "lib.sh"), path.join(tmp, "lib.sh"));
        fs.writeFileSync(path.join(tmp, "step.sh"), 'printf "%s" "${CONF-unset}" >"$OUT"\naihpc_done\n');
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    /** A copy as CopyToRemote leaves it (aihpc-file-<sha16>), and the payload line naming it. */
    function copy(text: string, dir = tmp): { file: string; payload: string } {
        const file = path.join(dir, `aihpc-file-${sha(text).slice(0, 16)}`);
        fs.writeFileSync(file, text);
        return { file, payload: stepPayload({}, undefined, { CONF: { path: file, sha256: sha(text) } }) };
    }

    test("checked, kept by hash (0600 under 0700), the copy removed; a later run reads the kept file", () => {
        const files = path.join(tmp, "files-a");
        const c = copy("NodeName=ws1\nNodeName=ws2\n");
        const first = run(c.payload, "apply", files);
        expect(first.stderr).toBe("");
        expect(first.status).toBe(0);
        expect(fs.readFileSync(path.join(tmp, "out"), "utf8")).toBe("NodeName=ws1\nNodeName=ws2");
        const kept = path.join(files, `CONF.${sha("NodeName=ws1\nNodeName=ws2\n").slice(0, 16)}`);
        expect(fs.statSync(kept).mode & 0o777).toBe(0o600);
        expect(fs.statSync(files).mode & 0o777).toBe(0o700);
        expect(fs.existsSync(c.file)).toBe(false);
        // Its own folder: not $AIHPC_STATE/files, where aihpc_sync_files keeps its records.
        expect(spawnSync("bash", ["-c", `source '${path.join(tmp, "lib.sh")}' && echo "$AIHPC_COPIED_DIR"`], { encoding: "utf8", env: { PATH: process.env.PATH } }).stdout.trim()).toBe("/var/lib/aihpc/copied");
        // The copy is gone (CopyToRemote does not run again): the step re-runs from what it kept.
        fs.writeFileSync(path.join(tmp, "out"), "");
        const again = run(c.payload, "apply", files);
        expect(again.status).toBe(0);
        expect(fs.readFileSync(path.join(tmp, "out"), "utf8")).toBe("NodeName=ws1\nNodeName=ws2");
    });

    test("a copy whose hash differs, or none at all, stops the apply with a message; a delete never reads it", () => {
        const files = path.join(tmp, "files-b");
        const c = copy("right\n");
        fs.writeFileSync(c.file, "tampered\n");
        const bad = run(c.payload, "apply", files);
        expect(bad.status).toBe(1);
        expect(bad.stderr).toContain(`aihpc: error: the copied file ${c.file} (CONF) has sha256 ${sha("tampered\n")}, expected ${sha("right\n")}: not using it`);
        expect(fs.existsSync(files)).toBe(false);
        fs.rmSync(c.file);
        const missing = run(c.payload, "apply", files);
        expect(missing.status).toBe(1);
        expect(missing.stderr).toContain(`the copied file ${c.file} (CONF) is missing on ${os.hostname()}: run \`pulumi up\` again`);
        const teardown = run(c.payload, "delete", files);
        expect(teardown.stderr).toBe("");
        expect(teardown.status).toBe(0);
        expect(fs.readFileSync(path.join(tmp, "out"), "utf8")).toBe("unset");
    });

    test("the newest three versions of a variable stay", () => {
        const files = path.join(tmp, "files-c");
        const texts = ["v1\n", "v2\n", "v3\n", "v4\n", "v5\n"];
        for (const [i, t] of texts.entries()) {
            const r = run(copy(t).payload, "apply", files);
            expect(r.status).toBe(0);
            // Distinct modification times, as separate applies have.
            fs.utimesSync(path.join(files, `CONF.${sha(t).slice(0, 16)}`), 1000 + i, 1000 + i);
        }
        expect(fs.readdirSync(files).sort()).toEqual(["v3\n", "v4\n", "v5\n"].map((t) => `CONF.${sha(t).slice(0, 16)}`).sort());
    });
});
