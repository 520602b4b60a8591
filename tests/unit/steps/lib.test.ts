// lib.sh's helpers for files and pinned packages, run for real (as root, as on
// a host) in a temp folder; apt itself is stood in for by a stub that records
// what it was asked and "installs" by editing a fake dpkg status (and the
// retries' sleep is skipped).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fileSet, parseFileSet } from "../../../components/steps";
import { STEP_SCRIPTS_DIR } from "../../../components/steps/bundle";
import { requireRoot } from "../../helpers/tools";

const LIB = fs.readFileSync(path.join(STEP_SCRIPTS_DIR, "lib.sh"), "utf8");
let tmp: string;
beforeAll(() => {
    requireRoot();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-libsh-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function bash(body: string, env: Record<string, string> = {}) {
    const r = spawnSync("bash", ["-c", `${LIB}\nAIHPC_STATE=${tmp}/state\n${body}`, "t"], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8" });
    return { status: r.status, out: r.stdout, err: r.stderr };
}

describe("fileSet: the one TypeScript encoder of a set of files", () => {
    test("sorted REL=BASE64 words that decode back; bad names refused", () => {
        const set = fileSet({ "b/x.sh": "echo b\n", "a.txt": "alpha" });
        expect(set.split(" ").map((w) => w.split("=")[0])).toEqual(["a.txt", "b/x.sh"]);
        expect(parseFileSet(set)).toEqual({ "a.txt": "alpha", "b/x.sh": "echo b\n" });
        for (const bad of ["../x", "/etc/passwd", "a b", "a/../../b", ""]) expect(() => fileSet({ [bad]: "x" })).toThrow(/bad file name/);
    });
});

describe("aihpc_sync_files", () => {
    const dest = () => path.join(tmp, "dest");
    const sync = (files: Record<string, string>) => bash(`aihpc_sync_files t1 "$DEST" "$SET" 'scripts/*'; echo wrote=$AIHPC_WROTE; aihpc_done`, { DEST: dest(), SET: fileSet(files) });

    test("writes the set (0755 for the exec glob), unchanged the second time, removes only what it wrote before", () => {
        fs.mkdirSync(dest(), { recursive: true });
        fs.writeFileSync(path.join(dest(), "admin.txt"), "not ours\n");
        let r = sync({ "a.txt": "one", "scripts/run": "#!/bin/sh\necho hi" });
        expect([r.status, r.out.trim().split("\n").pop()]).toEqual([0, "aihpc: changed"]);
        expect(fs.readFileSync(path.join(dest(), "a.txt"), "utf8")).toBe("one\n");
        expect((fs.statSync(path.join(dest(), "scripts/run")).mode & 0o777).toString(8)).toBe("755");
        expect((fs.statSync(path.join(dest(), "a.txt")).mode & 0o777).toString(8)).toBe("644");
        r = sync({ "a.txt": "one", "scripts/run": "#!/bin/sh\necho hi" });
        expect(r.out.trim().split("\n")).toEqual(["wrote=0", "aihpc: unchanged"]);
        r = sync({ "scripts/run": "#!/bin/sh\necho hi" });
        expect(r.out).toContain(`removed ${dest()}/a.txt`);
        expect(fs.existsSync(path.join(dest(), "admin.txt"))).toBe(true);
        r = bash(`aihpc_sync_files_remove t1 "$DEST"; aihpc_done`, { DEST: dest() });
        expect(r.out).toContain(`removed ${dest()}/scripts/run`);
        expect(fs.existsSync(path.join(dest(), "scripts"))).toBe(false);
        expect(fs.readdirSync(dest())).toEqual(["admin.txt"]);
    });

    test("a name that leaves the folder is refused before anything is written", () => {
        const r = bash(`aihpc_sync_files t2 "$DEST" "$SET"`, { DEST: dest(), SET: `ok=${Buffer.from("x").toString("base64")} ../evil=${Buffer.from("x").toString("base64")}` });
        expect(r.status).not.toBe(0);
        expect(r.err).toContain("file set t2: bad entry '../evil'");
        expect(fs.existsSync(path.join(dest(), "ok"))).toBe(false);
    });
});

describe("membership without a pipe", () => {
    test("aihpc_contains: exact words, any position, none", () => {
        const r = bash('aihpc_contains b a b c && echo yes; aihpc_contains "a b" a b || echo no; aihpc_contains x || echo empty; aihpc_contains c a b c && echo last');
        expect(r.out).toBe("yes\nno\nempty\nlast\n");
    });

    test("no script pipes printf into grep -q: under pipefail a match can read as absent", () => {
        // printf writes one item per write(); grep -q exits at the first match and the
        // next write kills printf (SIGPIPE), so the pipe fails: seen as a file removed
        // right after it was written (aihpc_sync_files), under load.
        const scripts = fs.readdirSync(path.resolve(STEP_SCRIPTS_DIR, "..", ".."), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".sh"));
        expect(scripts.length).toBeGreaterThan(40);
        const code = (f: string) => fs.readFileSync(path.resolve(STEP_SCRIPTS_DIR, "..", "..", f), "utf8").split("\n").filter((l) => !/^\s*#/.test(l));
        const offenders = scripts.filter((f) => code(f).some((l) => /printf [^|]*\| *grep -q/.test(l)));
        expect(offenders).toEqual([]);
    });
});

describe("aihpc_apt_install_pinned, against a stand-in apt and dpkg", () => {
    // dpkg-query reads $FAKE/status ("name version" lines); apt-get appends what it is asked to $FAKE/asked
    // and "installs" PKG=VER (or PKG at $FAKE/candidate-PKG) into the status.
    const fake = () => path.join(tmp, "fake");
    beforeAll(() => {
        fs.mkdirSync(path.join(fake(), "bin"), { recursive: true });
        const f = fake();
        fs.writeFileSync(
            path.join(f, "bin", "dpkg-query"),
            `#!/bin/bash
st=${f}/status
case "$*" in
  *'db:Status-Abbrev'*) awk '{ print "ii  " $1 }' "$st" ;;
  *'{Status}'*) grep -q "^\${@: -1} " "$st" && echo 'install ok installed' || exit 1 ;;
  *'{Version}'*) awk -v p="\${@: -1}" '$1 == p { print $2; f = 1 } END { exit !f }' "$st" ;;
esac
`,
            { mode: 0o755 },
        );
        fs.writeFileSync(
            path.join(f, "bin", "apt-get"),
            `#!/bin/bash
echo "$*" >>${f}/asked
[ "\${APT_FAIL:-0}" = 0 ] || exit 100
for a in "$@"; do
  case "$a" in -*|install) continue ;; esac
  n="\${a%%=*}"; v="\${a#*=}"; [ "$v" != "$a" ] || v="$(cat ${f}/candidate-$n)"
  grep -v "^$n " ${f}/status >${f}/s.new || true; echo "$n $v" >>${f}/s.new; mv ${f}/s.new ${f}/status
done
`,
            { mode: 0o755 },
        );
    });
    const run = (specs: string, env: Record<string, string> = {}) =>
        bash(`sleep() { :; }; aihpc_apt_install_pinned drv "check the pin" ${specs}; aihpc_done`, { PATH: `${fake()}/bin:${process.env.PATH}`, ...env });
    const asked = () => (fs.existsSync(path.join(fake(), "asked")) ? fs.readFileSync(path.join(fake(), "asked"), "utf8").trim().split("\n") : []);
    const recorded = (k: string) => fs.readFileSync(path.join(tmp, "state", "packages", `drv.${k}`), "utf8").trim().split("\n");

    test("installs what is missing or off its pin, moves without recording what was there, then nothing", () => {
        fs.writeFileSync(path.join(fake(), "status"), "dkms 3.0\nnvidia-smi 530.1-1\n");
        fs.writeFileSync(path.join(fake(), "candidate-cuda-drivers-580"), "580.65.06-1");
        let r = run("dkms nvidia-smi=535.261.03-1 cuda-drivers-580=580.*");
        expect([r.status, r.err.slice(-300)]).toEqual([0, expect.anything()]);
        expect(r.out.trim().split("\n").pop()).toBe("aihpc: changed");
        // The exact version is asked for; the glob leaves the choice to the apt preference.
        expect(asked()).toEqual([expect.stringMatching(/install --no-install-recommends --allow-downgrades nvidia-smi=535\.261\.03-1 cuda-drivers-580$/)]);
        expect(recorded("requested")).toEqual(["cuda-drivers-580"]);
        r = run("dkms nvidia-smi=535.261.03-1 cuda-drivers-580=580.*");
        expect(r.out.trim()).toBe("aihpc: unchanged");
        expect(asked()).toHaveLength(1);
    });

    test("a version that does not match after the install, or a failing apt, stops the step with the hint", () => {
        fs.writeFileSync(path.join(fake(), "status"), "");
        fs.writeFileSync(path.join(fake(), "candidate-docker.io"), "24.0.5+dfsg1-1");
        let r = run("docker.io=20.10.24+*");
        expect(r.status).not.toBe(0);
        expect(r.err).toContain("docker.io 24.0.5+dfsg1-1 is installed, but 20.10.24+* is pinned: check the pin");
        r = run("libnccl2=2.27.3-1+cuda12.8", { APT_FAIL: "1" });
        expect(r.status).not.toBe(0);
        expect(r.err).toContain("could not install libnccl2=2.27.3-1+cuda12.8: check the pin, then re-run");
    });
});
