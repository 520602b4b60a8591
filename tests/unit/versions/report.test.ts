// `npm run versions` against recorded registry answers (tests/fixtures/versions,
// see its README): the Debian archive as it was on 2026-12-02, an archive that
// no longer serves the default driver branch, a stack with exact pins that hold
// back bookworm-security's driver, npm and PyPI with and without advisories,
// and registries that do not answer (reported, never a failure).
import { execFileSync } from "child_process";
import * as path from "path";
import { checkApt, exactDepends, failing, Row } from "../../../tools/versions/report";
import { Source } from "../../../tools/versions/sources";
import { runVersionsCli } from "../../../tools/versions/cli";
import { REPO_ROOT } from "../../helpers/harness";

const FIX = path.join(__dirname, "..", "..", "fixtures", "versions");

async function report(...args: string[]): Promise<{ code: number; rows: Row[]; failing: string[]; notes: string[]; err: string }> {
    let out = "";
    let err = "";
    const code = await runVersionsCli([...args, "--json"], { out: (t) => (out += t), err: (t) => (err += t) });
    const parsed = out ? JSON.parse(out) : { rows: [], failing: [], notes: [] };
    return { code, err, ...parsed };
}

const row = (rows: Row[], name: string) => rows.find((r) => r.name === name)!;

describe("npm run versions: the Debian archive", () => {
    test("defaults against the archive of 2026-12-02: every default installs, the driver branch takes the security build", async () => {
        const r = await report("--recorded", path.join(FIX, "archive"), "--only", "debian");
        expect(r.code).toBe(0);
        expect(r.failing).toEqual([]);
        expect(row(r.rows, "nvidia-driver")).toMatchObject({ pinned: "535.*", inLine: "535.309.01-0+deb12u1", newest: "535.309.01-0+deb12u1", status: "ok" });
        expect(row(r.rows, "docker.io")).toMatchObject({ pinned: "20.10.*", inLine: "20.10.24+dfsg1-1+deb12u1+b6", status: "ok" });
        expect(row(r.rows, "slurmd")).toMatchObject({ pinned: "22.05.*", inLine: "22.05.8-4+deb12u3", status: "ok" });
        expect(row(r.rows, "chrony")).toMatchObject({ pinned: "*", status: "ok" });
        // Real data: Debian's NVML plugin was not rebuilt for Slurm's security build; it is optional, so reported, not failed.
        expect(r.rows.filter((x) => x.status !== "ok")).toEqual([
            expect.objectContaining({
                name: "slurm-wlm-nvml-plugin",
                status: "uninstallable",
                gating: false,
                note: "optional; slurm-wlm-nvml-plugin 22.05.8-4+deb12u2 depends on slurm-wlm-basic-plugins (= 22.05.8-4+deb12u2), the archive's candidate is 22.05.8-4+deb12u3",
            }),
        ]);
        // The one go.mod is a dev check's (tools/provider-key), pinned on purpose to the command provider's x/crypto.
        expect(r.notes).toContain("Go modules: tools/provider-key/go.mod (not checked by this report)");
    });

    test("held back: a stack's exact driver pin (535.261.03) keeps out bookworm-security's 535.309.01 -> exit 1", async () => {
        const r = await report("--recorded", path.join(FIX, "archive"), "--only", "debian", "--stack", "exact", "--dir", path.join(FIX, "stacks"));
        expect(r.code).toBe(1);
        expect(row(r.rows, "nvidia-driver")).toMatchObject({
            pinned: "535.261.03-*",
            inLine: "535.261.03-1",
            newest: "535.309.01-0+deb12u1",
            security: "535.309.01-0+deb12u1",
            status: "holds back security",
            note: "exact pin of stack exact",
        });
        expect(r.failing).toEqual(["Debian nvidia-driver", "Debian nvidia-kernel-dkms", "Debian nvidia-smi"]);
        // docker.io's exact pin still matches the suite's build: installable, nothing held back.
        expect(row(r.rows, "docker.io")).toMatchObject({ pinned: "20.10.24+*", status: "ok" });
    });

    test("uninstallable: an archive that no longer serves the 535 branch fails the default -> exit 1", async () => {
        const r = await report("--recorded", path.join(FIX, "archive-no-535"), "--only", "debian");
        expect(r.code).toBe(1);
        expect(row(r.rows, "nvidia-driver")).toMatchObject({ pinned: "535.*", newest: "550.163.01-1", status: "uninstallable" });
        expect(row(r.rows, "nvidia-driver").inLine).toBeUndefined();
        expect(r.failing).toEqual(["Debian nvidia-driver", "Debian nvidia-kernel-dkms", "Debian nvidia-smi"]);
    });

    test("registries that do not answer are reported unreachable and fail nothing (third-party repositories here)", async () => {
        const r = await report("--recorded", path.join(FIX, "archive"), "--only", "apt");
        expect(r.code).toBe(0);
        expect(r.rows.map((x) => [x.registry, x.name, x.status])).toEqual([
            ["NVIDIA CUDA", "cuda-toolkit-12-8", "unreachable"],
            ["NVIDIA CUDA", "libcudnn9-cuda-12", "unreachable"],
            ["NVIDIA CUDA", "libnccl2", "unreachable"],
            ["NVIDIA container toolkit", "nvidia-container-toolkit", "unreachable"],
            ["Grafana", "grafana", "unreachable"],
            ["Google Cloud", "google-cloud-cli", "unreachable"],
            ["Google Cloud", "gcsfuse", "unreachable"],
        ]);
        expect(row(r.rows, "libnccl2").pinned).toBe("2.26.2-1+cuda12.8");
        // No Debian answer at all: every Debian row unreachable, exit 0.
        const none = await report("--recorded", path.join(FIX, "npm", "clean"), "--only", "debian");
        expect(none.code).toBe(0);
        expect(new Set(none.rows.map((x) => x.status))).toEqual(new Set(["unreachable"]));
    });
});

describe("exact-version dependencies", () => {
    const index = (text: string): Source => ({ get: async () => ({ ok: true, text }) });
    const ARCHIVE = [
        "Package: plugin\nVersion: 1.0-1\nDepends: libc6 (>= 2.7), base (= 1.0-1), other (>= 1) | alt (= 9)",
        "Package: base\nVersion: 1.0-1",
        "Package: base\nVersion: 1.0-1+deb12u1",
    ].join("\n\n");

    test("Depends: only plain `(= version)` entries count", () => {
        expect(exactDepends("libc6 (>= 2.7), base (= 1.0-1), other (>= 1) | alt (= 9), python3:any (= 3.11.2-1+b1)")).toEqual([
            { name: "base", version: "1.0-1" },
            { name: "python3", version: "3.11.2-1+b1" },
        ]);
    });

    test("a default whose (= V) dependency the archive now offers at another version cannot be installed: it fails the report", async () => {
        const rows = await checkApt("Debian", [{ name: "plugin", glob: "*", gating: true }], [{ url: "u", suite: "bookworm" }], index(ARCHIVE));
        expect(rows[0]).toMatchObject({ status: "uninstallable", note: "plugin 1.0-1 depends on base (= 1.0-1), the archive's candidate is 1.0-1+deb12u1" });
        expect(failing(rows)).toHaveLength(1);
        const fixed = await checkApt("Debian", [{ name: "plugin", glob: "*", gating: true }], [{ url: "u", suite: "bookworm" }], index(ARCHIVE.replace("Version: 1.0-1+deb12u1", "Version: 0.9-1")));
        expect(fixed[0].status).toBe("ok");
    });
});

describe("npm run versions: npm and PyPI", () => {
    const npm = (dir: string) => report("--recorded", path.join(FIX, "npm", dir), "--only", "npm", "--npm-root", path.join(FIX, "npm", "project"));

    test("npm: locked versions, newest in the range's line, newest overall; advisories unknown when the endpoint does not answer", async () => {
        const r = await npm("clean");
        expect(r.code).toBe(0);
        expect(row(r.rows, "zod")).toMatchObject({ pinned: "^4.6.7 (lock 4.6.7)", inLine: "4.6.7", status: "ok", securityUnknown: "advisories: recorded as unreachable" });
    });

    test("npm: an advisory against a locked version holds back a security fix -> exit 1", async () => {
        const r = await npm("advisory");
        expect(r.code).toBe(1);
        expect(r.failing).toEqual(["npm yaml"]);
        expect(row(r.rows, "yaml").security).toMatch(/Constructed advisory against yaml 2\.9\.1 .*patched >=2\.9\.2/);
    });

    test("PyPI: the default lock's jinja2 3.1.4 holds back the fixes of 3.1.5 -> exit 1; torch is clean", async () => {
        const r = await report("--recorded", path.join(FIX, "pypi"), "--only", "pypi", "--locks", path.join(FIX, "pypi", "locks"));
        expect(r.code).toBe(1);
        expect(row(r.rows, "jinja2")).toMatchObject({
            pinned: "3.1.4 (torch-2.7.1-cu126.txt)",
            inLine: "3.1.6",
            status: "holds back security",
            security: "GHSA-q2x7-8rv6-6q7h (fixed in 3.1.5); GHSA-gmj6-6f8f-6699 (fixed in 3.1.5)",
        });
        expect(row(r.rows, "torch")).toMatchObject({ status: "ok", gating: true });
        expect(r.failing).toEqual(["PyPI jinja2"]);
    });
});

describe("npm run versions: the command", () => {
    test("bad arguments: exit 2 with what is expected", async () => {
        const r = await report("--only", "debian,rubygems");
        expect(r.code).toBe(2);
        expect(r.err).toBe("versions: --only rubygems: expected a comma-separated list of debian, apt, npm, pypi\n");
        expect((await report("--recorded", FIX)).err).toMatch(/no answers\.json there/);
    });

    test("as npm runs it: the table, and exit 1 for the held-back driver", () => {
        let out = "";
        let code = 0;
        try {
            execFileSync("npm", ["run", "-s", "versions", "--", "--recorded", path.join(FIX, "archive"), "--only", "debian", "--stack", "exact", "--dir", path.join(FIX, "stacks")], {
                cwd: REPO_ROOT,
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
            });
        } catch (err) {
            const e = err as { status: number; stdout: string };
            code = e.status;
            out = e.stdout;
        }
        expect(code).toBe(1);
        expect(out).toMatch(/^registry +package +pinned +newest in line +newest overall +security update pending +status$/m);
        expect(out).toMatch(/^Debian +nvidia-driver +535\.261\.03-\* +535\.261\.03-1 +535\.309\.01-0\+deb12u1 +535\.309\.01-0\+deb12u1 +HOLDS BACK SECURITY: exact pin of stack exact$/m);
        expect(out).toContain("3 default(s) cannot be installed or hold back a security fix: nvidia-driver (holds back security), nvidia-kernel-dkms (holds back security), nvidia-smi (holds back security)");
    }, 60_000);
});
