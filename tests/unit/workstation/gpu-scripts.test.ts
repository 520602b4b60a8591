// The GPU stack's step scripts as hosts run them (lib.sh + the step):
// parse, shellcheck-clean, idempotence markers, and apt only via lib.sh.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stepScript } from "../../../components/steps";
import { requireTool } from "../../helpers/tools";

const ROOT = path.resolve(__dirname, "..", "..", "..", "components", "workstation");
const DIRS = ["nvidia", "containers", "ml-runtime"].map((d) => path.join(ROOT, d, "scripts"));
const steps = [
    ...DIRS.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith(".sh")).map((f) => [d, f] as const)),
    [path.join(ROOT, "monitoring", "scripts"), "gpu-exporter.sh"] as const,
];

describe("GPU stack step scripts", () => {
    test.each(steps)("%s/%s parses and is shellcheck-clean with lib.sh in front", (dir, file) => {
        const text = stepScript(dir, file);
        expect(spawnSync("bash", ["-n"], { input: text }).status).toBe(0);
        expect(text).toContain("aihpc_done");
        expect(text).toMatch(/case "\$AIHPC_ACTION" in/);
        const r = spawnSync(requireTool("shellcheck"), ["-s", "bash", "-"], { input: text, encoding: "utf8" });
        expect(r.stdout).toBe("");
        // Every apt-get goes through the library (lock timeout, retries).
        expect(fs.readFileSync(path.join(dir, file), "utf8").split("\n").filter((l) => /^\s*apt-get /.test(l))).toEqual([]);
    });

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
