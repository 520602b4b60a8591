// Third-party apt repositories are verified before they are trusted (issue 11,
// item 4): lib.sh aihpc_apt_repo run for real in a scratch root against test
// keys (file:// URLs through apt's own downloader), and every step that adds a
// repository goes through it.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stepScript } from "../../../components/steps";
import { versions } from "../../../config/versions";
import { requireRoot, requireTool } from "../../helpers/tools";

const ROOT = path.resolve(__dirname, "..", "..", "..", "components");
const REPO_STEPS = [
    ["workstation/nvidia/scripts", "cuda-repo.sh"],
    ["workstation/containers/scripts", "nvidia-toolkit.sh"],
    ["workstation/monitoring/scripts", "grafana.sh"],
    ["hybrid/identity/scripts", "gcloud-cli.sh"],
] as const;

describe("steps that add a third-party repository", () => {
    test.each(REPO_STEPS)("%s/%s goes through aihpc_apt_repo and trusts nothing on its own", (dir, file) => {
        const body = fs.readFileSync(path.join(ROOT, dir, file), "utf8");
        expect(body).toMatch(/^\s*aihpc_apt_repo "\$\w+" "[^"]+" "\$FINGERPRINTS" "\$\{KEY_SHA256:-\}" [\w.]+ /m);
        // No download, dearmor, key install or package install of its own before the check.
        for (const bad of [/\bcurl\b/, /--dearmor/, /\bdpkg -i\b/, /apt-key/, /gpg --import/, /\[trusted=yes\]/]) expect(body).not.toMatch(bad);
    });

    test("the pins live in config/versions.ts: exact fingerprint sets, none invented for Google", () => {
        expect(versions.aptKeys.cuda.fingerprints).toEqual(["EB693B3035CD5710E231E123A4B469963BF863CC"]);
        for (const k of [versions.aptKeys.cuda, versions.aptKeys.nvidiaContainerToolkit, versions.aptKeys.grafana]) {
            for (const f of k.fingerprints) expect(f).toMatch(/^[0-9A-F]{40}$/);
        }
        // Grafana's key exposed in 2023 is never trusted.
        expect(versions.aptKeys.grafana.fingerprints).not.toContain("0E22EB88E39E12277A7760AE9E439B102CF3C0C6");
        expect("fingerprints" in versions.aptKeys.googleCloud).toBe(false);
    });
});

describe("lib.sh aihpc_apt_repo, run for real in a scratch root", () => {
    let tmp: string;
    let fprA: string;
    let fprB: string;
    const gpgHome = () => path.join(tmp, "gnupg");

    beforeAll(() => {
        requireRoot();
        requireTool("gpg");
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-repo-"));
        fs.chmodSync(tmp, 0o755);
        fs.mkdirSync(gpgHome(), { mode: 0o700 });
        const gpg = (...args: string[]) => {
            const r = spawnSync("gpg", ["--homedir", gpgHome(), "--batch", "--pinentry-mode", "loopback", "--passphrase", "", ...args], { encoding: "utf8" });
            if (r.status !== 0) throw new Error(`gpg ${args.join(" ")}: ${r.stderr}`);
            return r.stdout;
        };
        for (const who of ["Repo A <a@example.invalid>", "Repo B <b@example.invalid>"]) gpg("--quick-gen-key", who, "ed25519", "sign", "never");
        const fprs = gpg("--with-colons", "--list-keys")
            .split("\n")
            .filter((l) => l.startsWith("fpr:"))
            .map((l) => l.split(":")[9]);
        [fprA, fprB] = [fprs[0], fprs[1]];
        fs.mkdirSync(path.join(tmp, "srv"));
        fs.writeFileSync(path.join(tmp, "srv", "a.asc"), gpg("--armor", "--export", fprA));
        fs.writeFileSync(path.join(tmp, "srv", "ab.asc"), gpg("--armor", "--export", fprA, fprB));
        fs.writeFileSync(path.join(tmp, "srv", "a.gpg"), spawnSync("gpg", ["--homedir", gpgHome(), "--export", fprA]).stdout);
        for (const f of fs.readdirSync(path.join(tmp, "srv"))) fs.chmodSync(path.join(tmp, "srv", f), 0o644);
    });
    afterAll(() => {
        spawnSync("gpgconf", ["--homedir", gpgHome(), "--kill", "gpg-agent"]);
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    /** lib.sh with its apt paths moved under a scratch root and `apt-get update` recorded instead of run. */
    function run(root: string, key: string, fprs: string, sha = "") {
        fs.mkdirSync(root, { recursive: true });
        const lib = stepScript(path.join(ROOT, "steps", "scripts"), "retain.sh")
            .replace(/# ---- retain\.sh[\s\S]*$/, "")
            // lib.sh's own entry point (`bash lib.sh STEP.sh`) is not how this test runs it.
            .replace(/\n# Run as `bash lib\.sh[\s\S]*?\nfi\n/, "\n")
            .replace(/\/etc\/apt\//g, `${root}/etc/apt/`)
            .replace(/^aihpc_apt_retry\(\) \{/m, `aihpc_apt_retry() { echo "apt-get $*" >>${root}/updates; return 0; }\naihpc_apt_retry_real() {`);
        const step = `${lib}
aihpc_apt_repo test "file://${tmp}/srv/${key}" "${fprs}" "${sha}" workstation.test "deb [signed-by=${root}/etc/apt/keyrings/aihpc-test.gpg] https://repo.example.invalid/deb stable main" "Package: x
Pin: version 1.*
Pin-Priority: 1001"
aihpc_done`;
        return spawnSync("bash", ["-c", step, "aihpc-step"], { encoding: "utf8", env: { ...process.env, AIHPC_ACTION: "apply" } });
    }
    const keyringFprs = (root: string) =>
        spawnSync("gpg", ["--homedir", gpgHome(), "--show-keys", "--with-colons", path.join(root, "etc/apt/keyrings/aihpc-test.gpg")], { encoding: "utf8" })
            .stdout.split("\n")
            .filter((l) => l.startsWith("fpr:"))
            .map((l) => l.split(":")[9]);

    test("the exact pinned key: installed 0644 (binary), source and pin written, one update; a re-run downloads nothing and changes nothing", () => {
        const root = path.join(tmp, "ok");
        const r = run(root, "a.asc", fprA.toLowerCase());
        expect(r.stderr).toBe("");
        expect(r.stdout.trim().split("\n").pop()).toBe("aihpc: changed");
        const keyring = path.join(root, "etc/apt/keyrings/aihpc-test.gpg");
        expect((fs.statSync(keyring).mode & 0o777).toString(8)).toBe("644");
        expect(fs.readFileSync(keyring).subarray(0, 1).toString()).not.toBe("-");
        expect(keyringFprs(root)).toEqual([fprA]);
        expect(fs.readFileSync(path.join(root, "etc/apt/sources.list.d/aihpc-test.list"), "utf8")).toContain("signed-by=");
        expect(fs.readFileSync(path.join(root, "etc/apt/preferences.d/aihpc-test"), "utf8")).toContain("Pin-Priority: 1001");
        expect(fs.readFileSync(path.join(root, "updates"), "utf8")).toMatch(/^apt-get update --error-on=any -o Dir::Etc::sourcelist=.*aihpc-test\.list -o Dir::Etc::sourceparts=- /);
        // The key file is gone: a re-run must not need it.
        const again = run(root, "missing.asc", fprA);
        expect(again.stdout.trim()).toBe("aihpc: unchanged");
        expect(fs.readFileSync(path.join(root, "updates"), "utf8").trim().split("\n")).toHaveLength(1);
    });

    test("the pinned key among others: refused, nothing installed (the old check passed this)", () => {
        const root = path.join(tmp, "extra");
        const r = run(root, "ab.asc", fprA);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain(`holds the key(s) [${[fprA, fprB].sort().join(" ")}], but exactly [${fprA}] is pinned (workstation.test.keyFingerprints`);
        expect(fs.existsSync(path.join(root, "etc/apt/keyrings/aihpc-test.gpg"))).toBe(false);
        expect(fs.existsSync(path.join(root, "etc/apt/sources.list.d/aihpc-test.list"))).toBe(false);
    });

    test("a pinned key missing from the file, or another key: refused", () => {
        expect(run(path.join(tmp, "missing"), "a.asc", `${fprA} ${fprB}`).stderr).toContain("is pinned");
        expect(run(path.join(tmp, "other"), "a.asc", fprB).stderr).toContain(`holds the key(s) [${fprA}], but exactly [${fprB}] is pinned`);
        expect(fs.existsSync(path.join(tmp, "other", "etc/apt/keyrings/aihpc-test.gpg"))).toBe(false);
    });

    test("a pinned sha256 of the key file is checked before anything else; a binary key file works too", () => {
        const sha = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(path.join(tmp, "srv", f))).digest("hex");
        const bad = run(path.join(tmp, "sha-bad"), "a.asc", fprA, "0".repeat(64));
        expect(bad.status).not.toBe(0);
        expect(bad.stderr).toMatch(/has sha256 [0-9a-f]{64}, but 0{64} is pinned/);
        expect(fs.existsSync(path.join(tmp, "sha-bad", "etc/apt/keyrings/aihpc-test.gpg"))).toBe(false);
        const good = run(path.join(tmp, "sha-good"), "a.gpg", fprA, sha("a.gpg"));
        expect(good.stdout.trim().split("\n").pop()).toBe("aihpc: changed");
        expect(keyringFprs(path.join(tmp, "sha-good"))).toEqual([fprA]);
    });

    test("a keyring replaced by another key is replaced again (only after verifying the download)", () => {
        const root = path.join(tmp, "tampered");
        run(root, "a.asc", fprA);
        fs.copyFileSync(path.join(tmp, "srv", "ab.asc"), path.join(root, "etc/apt/keyrings/aihpc-test.gpg"));
        const r = run(root, "a.asc", fprA);
        expect(r.stdout).toContain("installed");
        expect(keyringFprs(root)).toEqual([fprA]);
    });
});
