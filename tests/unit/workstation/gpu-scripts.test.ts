// The GPU stack's step scripts run for real (their lib.sh and shellcheck
// checks: tests/unit/steps/scripts.test.ts).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stepScript } from "../../../components/steps";

const ROOT = path.resolve(__dirname, "..", "..", "..", "components", "workstation");
describe("GPU stack step scripts", () => {
    test("the modules step, run for real in a scratch root: writes, says unchanged the second time, drops removed versions", () => {
        if (typeof process.getuid === "function" && process.getuid() !== 0) throw new Error("run as root (the step library chowns)");
        const tmp = fs.mkdtempSync("/tmp/aihpc-mod-");
        // Run modules.sh with its directory and lmod install redirected: the library's apt helpers are stubbed.
        const script = stepScript(path.join(ROOT, "nvidia", "scripts"), "modules.sh")
            .replace("dir=/etc/lmod/modules/cuda", `dir=${tmp}/cuda`)
            .replace("aihpc_apt_install lmod lmod", ": lmod stubbed");
        // Module files as the component renders them: the step removes only files with its header.
        const b64 = (s: string) => Buffer.from(`-- Managed by aihpc (Pulumi): workstation.nvidia.cuda.versions\n${s}`).toString("base64");
        const runIt = (files: string, def: string) =>
            spawnSync("bash", ["-c", script, "x"], { env: { ...process.env, AIHPC_ACTION: "apply", MODULE_FILES: files, DEFAULT_VERSION: def }, encoding: "utf8" });
        let r = runIt(`12.8.lua=${b64("a")} 12.9.lua=${b64("b")}`, "12.9");
        expect(r.status).toBe(0);
        expect(r.stdout.trim().split("\n").pop()).toBe("aihpc: changed");
        expect(fs.readlinkSync(`${tmp}/cuda/default`)).toBe("12.9.lua");
        r = runIt(`12.8.lua=${b64("a")} 12.9.lua=${b64("b")}`, "12.9");
        expect(r.stdout.trim()).toBe("aihpc: unchanged");
        r = runIt(`12.9.lua=${b64("b")}`, "12.9");
        expect(r.stdout).toContain(`removed ${tmp}/cuda/12.8.lua`);
        fs.rmSync(tmp, { recursive: true, force: true });
    });
});
