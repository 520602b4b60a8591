// The GPU stack's step scripts run for real (their lib.sh and shellcheck
// checks: tests/unit/steps/scripts.test.ts).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stepScript } from "../../../components/steps";
import { cudaModuleFiles } from "../../../components/workstation/nvidia/files";
import { installedPackages } from "../../../components/workstation/installed";

const ROOT = path.resolve(__dirname, "..", "..", "..", "components", "workstation");
describe("GPU stack step scripts", () => {
    test("the modules step, run for real in a scratch root: writes, says unchanged the second time, drops removed versions", () => {
        if (typeof process.getuid === "function" && process.getuid() !== 0) throw new Error("run as root (the step library chowns)");
        const tmp = fs.mkdtempSync("/tmp/aihpc-mod-");
        // Run modules.sh with its directory and lib.sh's records in the scratch root; lmod's install is stubbed.
        const script = stepScript(path.join(ROOT, "nvidia", "scripts"), "modules.sh").replace("aihpc_apt_install lmod lmod", `AIHPC_STATE=${tmp}/state; : lmod stubbed`);
        const runIt = (files: string, def: string) =>
            spawnSync("bash", ["-c", script, "x"], { env: { ...process.env, AIHPC_ACTION: "apply", MODULES_DIR: `${tmp}/cuda`, MODULE_FILES: files, DEFAULT_VERSION: def }, encoding: "utf8" });
        const set = (versions: string[]) => cudaModuleFiles(versions);
        let r = runIt(set(["12.8", "12.9"]), "12.9");
        expect(r.status).toBe(0);
        expect(r.stdout.trim().split("\n").pop()).toBe("aihpc: changed");
        expect(fs.readlinkSync(`${tmp}/cuda/default`)).toBe("12.9.lua");
        r = runIt(set(["12.8", "12.9"]), "12.9");
        expect(r.stdout.trim()).toBe("aihpc: unchanged");
        r = runIt(set(["12.9"]), "12.9");
        expect(r.stdout).toContain(`removed ${tmp}/cuda/12.8.lua`);
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    test("the verify step, run for real with stand-in nvidia-smi and dpkg-query: prints the installed driver packages' exact versions", () => {
        const tmp = fs.mkdtempSync("/tmp/aihpc-verify-");
        try {
            // nvidia-smi as on the H200 (tests/unit/workstation/fixtures/verify-h200.txt); dpkg-query as dpkg prints
            // `${db:Status-Abbrev} ${Package}=${Version}` for two installed packages and one removed (rc) one.
            fs.writeFileSync(
                `${tmp}/nvidia-smi`,
                '#!/bin/sh\ncase "$*" in *memory.total*) echo "0, NVIDIA H200, GPU-1, 143771, 535.309.01, 00000000:00:06.0" ;; *) echo "0, NVIDIA H200, GPU-1, 535.309.01, Enabled, 00000000:00:06.0" ;; esac\n',
                { mode: 0o755 },
            );
            fs.writeFileSync(
                `${tmp}/dpkg-query`,
                '#!/bin/sh\nprintf "ii  nvidia-driver=535.309.01-0+deb12u1\\nii  nvidia-kernel-dkms=535.309.01-0+deb12u1\\nrc  nvidia-smi=535.261.03-1\\n"\nexit 1\n',
                { mode: 0o755 },
            );
            const r = spawnSync("bash", ["-c", stepScript(path.join(ROOT, "nvidia", "scripts"), "verify.sh"), "x"], {
                env: { ...process.env, PATH: `${tmp}:${process.env.PATH}`, AIHPC_ACTION: "apply", EXPECTED_GPUS: "1", EXPECTED_MODEL: "NVIDIA H200", PERSISTENCE: "true" },
                encoding: "utf8",
            });
            expect([r.status, r.stderr]).toEqual([0, expect.any(String)]);
            expect(installedPackages(r.stdout)).toEqual({ "nvidia-driver": "535.309.01-0+deb12u1", "nvidia-kernel-dkms": "535.309.01-0+deb12u1" });
            expect(r.stdout).toContain("nvidia_gpu=0, NVIDIA H200, GPU-1, 143771, 535.309.01, 00000000:00:06.0");
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});
