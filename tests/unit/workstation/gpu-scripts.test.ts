// The GPU stack's step scripts run for real (their lib.sh and shellcheck
// checks: tests/unit/steps/scripts.test.ts).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stepScript } from "../../../components/steps";
import { cudaModuleFiles } from "../../../components/workstation/nvidia/files";

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
});
