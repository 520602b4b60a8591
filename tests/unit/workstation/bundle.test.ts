// The step bundle and how a step receives its inputs: the archive is
// deterministic, a command names what it runs by content hash, and lib.sh's
// loader turns bundled files, file sets and the stdin payload into the
// variables a script reads, run for real with bash.
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BUNDLE_ROOT, buildBundle, bundleEntries, bundlePath } from "../../../components/steps/bundle";
import { MAX_SETTING_LENGTH, stepCommand, stepPayload } from "../../../components/steps";
import { requireRoot } from "../../helpers/tools";
import { readInlineScript } from "../../../components/steps/shell";

const COMPONENTS = path.resolve(__dirname, "..", "..", "..", "components");
const LIB = path.join(COMPONENTS, "steps", "scripts", "lib.sh");
const sha16 = (f: string) => createHash("sha256").update(fs.readFileSync(f)).digest("hex").slice(0, 16);

describe("the step bundle", () => {
    test("every file a step runs or installs is in it, named by its content hash; no code, no build output", () => {
        const { entries } = bundleEntries();
        const locals = entries.map((e) => path.relative(COMPONENTS, e.local));
        expect(locals).toContain("steps/scripts/lib.sh");
        expect(locals).toContain("workstation/slurm/scripts/config.sh");
        expect(locals).toContain("workstation/monitoring/templates/grafana/dashboards/node.json");
        expect(locals.filter((f) => f.endsWith(".ts") || f.split("/").some((p) => p.startsWith(".") || p === "bin"))).toEqual([]);
        for (const e of entries) expect(e.entry).toBe(`${sha16(e.local)}/${path.basename(e.local)}`);
        expect(bundlePath(LIB)).toBe(`${BUNDLE_ROOT}/${sha16(LIB)}/lib.sh`);
        expect(() => bundlePath(__filename)).toThrow(/not a bundled file/);
    });

    test("the archive is the same bytes every time, and lists exactly the entries", async () => {
        const b = await buildBundle();
        expect(createHash("sha256").update(fs.readFileSync(b.file)).digest("hex")).toBe(b.sha256);
        const listed = execFileSync("tar", ["-tzf", b.file], { encoding: "utf8" })
            .split("\n")
            .filter((l) => l && !l.endsWith("/"));
        expect(listed.sort()).toEqual(b.entries.map((e) => e.entry).sort());
        // Rebuilt from scratch in another process: byte-identical.
        const again = execFileSync(
            process.execPath,
            ["-r", "@swc-node/register", "-e", "require('./components/steps/bundle').buildBundle().then((b) => process.stdout.write(b.sha256))"],
            { cwd: path.resolve(COMPONENTS, ".."), encoding: "utf8" },
        );
        expect(again).toBe(b.sha256);
    });
});

describe("step commands", () => {
    const dir = path.join(COMPONENTS, "workstation", "slurm", "scripts");

    test("name the library and the script by content hash, then the settings; nothing else", () => {
        const cmd = stepCommand(dir, "packages.sh", "apply", { PACKAGES: "munge slurmd" });
        expect(cmd).toBe(
            `AIHPC_ACTION='apply' AIHPC_STEP_NAME='packages' PACKAGES='munge slurmd' bash ${BUNDLE_ROOT}/${sha16(LIB)}/lib.sh ${BUNDLE_ROOT}/${sha16(path.join(dir, "packages.sh"))}/packages.sh`,
        );
    });

    test("a file or a long text as a setting is refused, naming the variable", () => {
        expect(() => stepCommand(dir, "config.sh", "apply", { SLURM_CONF: "a\nb" })).toThrow(/setting SLURM_CONF .* line breaks: pass file contents as `files`/);
        expect(() => stepCommand(dir, "config.sh", "apply", { X: "y".repeat(MAX_SETTING_LENGTH + 1) })).toThrow(/setting X is 8193 characters/);
        expect(() => stepCommand(dir, "config.sh", "apply", { AIHPC_ACTION: "x" })).toThrow(/invalid variable name 'AIHPC_ACTION'/);
    });
});

describe("lib.sh aihpc_inputs, run for real", () => {
    let tmp: string;
    beforeAll(() => {
        requireRoot(); // lib.sh refuses to run as anyone else, as on a host
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-inputs-"));
        fs.copyFileSync(LIB, path.join(tmp, "lib.sh"));
        fs.writeFileSync(
            path.join(tmp, "step.sh"),
            [
                'printf "%s" "$BIG" | sha256sum | cut -c1-64 >"$OUT/big"',
                'printf "%s" "$CONF" >"$OUT/conf"',
                'printf "%s" "$PROGRAM" >"$OUT/program"',
                'printf "%s" "$SET" >"$OUT/set"',
                'cat >"$OUT/stdin"',
                "aihpc_done",
            ].join("\n"),
        );
        fs.writeFileSync(path.join(tmp, "prog"), "#!/bin/sh\necho hi\n\n");
        fs.writeFileSync(path.join(tmp, "a.txt"), "alpha\n");
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    test("bundled files, file sets, a 1 MiB payload file and a secret stdin reach the script; none of it in argv", () => {
        const big = "x".repeat(1024 * 1024 + 17) + "\nend";
        const out = fs.mkdtempSync(path.join(tmp, "out-"));
        const payload = stepPayload({ BIG: big, CONF: "line 1\nline 2 'quoted' $HOME\n" }, "s3cret\n");
        const r = spawnSync("bash", [path.join(tmp, "lib.sh"), path.join(tmp, "step.sh")], {
            input: payload,
            encoding: "utf8",
            env: {
                ...process.env,
                OUT: out,
                AIHPC_ACTION: "apply",
                AIHPC_FILES: `PROGRAM=${path.join(tmp, "prog")}`,
                AIHPC_SETS: `SET=a.txt:${path.join(tmp, "a.txt")},sub/p:${path.join(tmp, "prog")}`,
                AIHPC_PAYLOAD: "1",
            },
        });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout.trim()).toBe("aihpc: unchanged");
        expect(fs.readFileSync(path.join(out, "big"), "utf8").trim()).toBe(createHash("sha256").update(big).digest("hex"));
        // Trailing newlines are dropped, as fileText does (aihpc_put adds one back).
        expect(fs.readFileSync(path.join(out, "conf"), "utf8")).toBe("line 1\nline 2 'quoted' $HOME");
        expect(fs.readFileSync(path.join(out, "program"), "utf8")).toBe("#!/bin/sh\necho hi");
        expect(fs.readFileSync(path.join(out, "set"), "utf8")).toBe(`a.txt=${Buffer.from("alpha\n").toString("base64")} sub/p=${Buffer.from("#!/bin/sh\necho hi\n\n").toString("base64")}`);
        expect(fs.readFileSync(path.join(out, "stdin"), "utf8")).toBe("s3cret\n");
    });

    test("a missing bundled file or a stdin that is not a payload fails with a message", () => {
        const env = { ...process.env, OUT: tmp, AIHPC_ACTION: "apply" };
        const missing = spawnSync("bash", [path.join(tmp, "lib.sh"), path.join(tmp, "step.sh")], { encoding: "utf8", env: { ...env, AIHPC_FILES: "PROGRAM=/nonexistent/x" } });
        expect(missing.status).toBe(1);
        expect(missing.stderr).toContain("aihpc: error: bundled file /nonexistent/x is missing: re-run `pulumi up`");
        const notPayload = spawnSync("bash", [path.join(tmp, "lib.sh"), path.join(tmp, "step.sh")], { input: "raw secret\n", encoding: "utf8", env: { ...env, AIHPC_PAYLOAD: "1" } });
        expect(notPayload.status).toBe(1);
        expect(notPayload.stderr).toContain("its input on stdin is missing or not an aihpc payload");
        expect(notPayload.stderr).not.toContain("raw secret");
    });
});

describe("steps/scripts/bundle.sh, run for real in a scratch root", () => {
    // As the Host sends it: inline, its comments and indentation cut (inlineScript).
    const SCRIPT = readInlineScript(path.join(COMPONENTS, "steps", "scripts"), "bundle.sh");
    let tmp: string;
    let root: string;
    beforeAll(() => {
        requireRoot();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-bundle-"));
        root = path.join(tmp, "root");
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    /** A bundle archive of `files` (entry -> text), as components/steps/bundle.ts lays them out. */
    const archive = (name: string, files: Record<string, string>): { tar: string; sha: string } => {
        const src = path.join(tmp, `src-${name}`);
        for (const [entry, text] of Object.entries(files)) {
            fs.mkdirSync(path.join(src, path.dirname(entry)), { recursive: true });
            fs.writeFileSync(path.join(src, entry), text);
        }
        const tar = path.join(tmp, `${name}.tar.gz`);
        execFileSync("tar", ["-czf", tar, "-C", src, ...Object.keys(files).map((e) => e.split("/")[0])]);
        return { tar, sha: createHash("sha256").update(fs.readFileSync(tar)).digest("hex") };
    };
    const install = (a: { tar: string; sha: string }, remove = "0") =>
        spawnSync("bash", ["-c", SCRIPT, "aihpc-step"], { encoding: "utf8", env: { ...process.env, AIHPC_BUNDLE_ROOT: root, AIHPC_ACTION: "apply", BUNDLE_TAR: a.tar, BUNDLE_SHA256: a.sha, REMOVE_TAR: remove } });
    const present = () => fs.readdirSync(root).filter((d) => d !== ".versions").sort();

    test("unpacks once, says unchanged after, keeps the entries of the last three versions", () => {
        const v = [1, 2, 3, 4].map((i) => archive(`v${i}`, { "aaaa/lib.sh": "lib", [`b00${i}/step.sh`]: `step ${i}` }));
        let r = install(v[0]);
        expect([r.status, r.stdout.trim().split("\n").pop()]).toEqual([0, "aihpc: changed"]);
        expect(fs.readFileSync(path.join(root, "b001", "step.sh"), "utf8")).toBe("step 1");
        r = install(v[0]);
        expect([r.status, r.stdout.trim()]).toEqual([0, "aihpc: unchanged"]);
        for (const a of v.slice(1)) expect(install(a).status).toBe(0);
        // v1's own file goes with v1; what v2..v4 name stays (the delete commands in state may name them).
        expect(present()).toEqual(["aaaa", "b002", "b003", "b004"]);
        // Back to an older version still kept: nothing to unpack.
        expect(install(v[1]).stdout.trim()).toBe("aihpc: unchanged");
    });

    test("an archive whose sha256 differs is refused before anything is unpacked; the copy is removed once installed", () => {
        const good = archive("good", { "cccc/x.sh": "x" });
        const bad = { tar: good.tar, sha: "0".repeat(64) };
        const r = install(bad);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`has sha256 ${good.sha}, expected ${"0".repeat(64)}: not unpacking it`);
        expect(fs.existsSync(path.join(root, "cccc"))).toBe(false);
        expect(install(good, "1").status).toBe(0);
        expect(fs.existsSync(good.tar)).toBe(false);
        expect(fs.readFileSync(path.join(root, "cccc", "x.sh"), "utf8")).toBe("x");
    });
});
