// Defence in depth in the step scripts (issue 11): a value the schema would
// refuse is refused by the script too, before it is written; teardown removes
// only what a step created. Run for real (as root, as on a host) against a
// temp folder: every host path a step writes is redirected there, and the
// package helpers are stubbed, so nothing of this machine is touched.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stepScript } from "../../../components/steps";
import { aptProxyConf, chronySources, debianSources } from "../../../components/workstation/base-system/files";
import { cudaModuleFiles } from "../../../components/workstation/nvidia/files";
import { VENV_MARKER } from "../../../components/workstation/ml-runtime";
import { requireRoot } from "../../helpers/tools";

const WS = path.resolve(__dirname, "..", "..", "..", "components", "workstation");

let tmp: string;
beforeAll(() => {
    requireRoot();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-hardening-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Run a step with host paths redirected into the temp folder and apt and retain flags stubbed. */
function run(dir: string, file: string, env: Record<string, string>, redirect: Record<string, string>, stubs = "") {
    let text = stepScript(path.join(WS, dir, "scripts"), file);
    for (const [from, to] of Object.entries(redirect)) text = text.split(from).join(to);
    // lib.sh sets AIHPC_STATE itself: its records go to the temp folder too.
    text = text.replace(`# ---- ${file}\n`, `AIHPC_STATE=${tmp}/state\naihpc_apt_install() { :; }\naihpc_apt_remove() { :; }\n${stubs}\n# ---- ${file}\n`);
    const r = spawnSync("bash", ["-c", text, "aihpc-step"], { env: { PATH: process.env.PATH, AIHPC_STATE: tmp, ...env }, encoding: "utf8" });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("apt values are refused by the scripts too", () => {
    test.each(['http://p:3128/";APT::Update::Pre-Invoke {"id";};//', "http://p:3128/ x", "file:///etc/passwd", "http://p/$(id)"])("apt-proxy.sh refuses %j before writing", (proxy) => {
        const conf = path.join(tmp, "80aihpc-proxy");
        const r = run("base-system", "apt-proxy.sh", { AIHPC_ACTION: "apply", APT_PROXY: proxy, CONF_FILE: conf, AUTH_FILE: `${conf}.auth`, PROXY_CONF: "x" }, {});
        // The renderer refuses it as well: the text it would put in the quoted value never exists.
        expect(() => aptProxyConf(proxy)).toThrow(/workstation\.aptProxy: expected an http:\/\/ or https:\/\/ URL/);
        expect(r.status).not.toBe(0);
        expect(r.out).toMatch(/aihpc: error: workstation\.aptProxy/);
        expect(fs.existsSync(conf)).toBe(false);
    });

    test.each(["http://deb.debian.org/debian http://evil.example/debian", "http://deb.debian.org/debian\nURIs: http://evil.example", "ftp://x/debian"])("apt-sources.sh refuses %j before writing", (mirror) => {
        const sources = path.join(tmp, "debian.sources");
        const r = run(
            "base-system",
            "apt-sources.sh",
            { AIHPC_ACTION: "apply", MIRROR: mirror, SECURITY_MIRROR: "http://deb.debian.org/debian-security", SOURCES_FILE: sources, LIST_FILE: `${sources}.list`, DEBIAN_SOURCES: "x", SOURCES_LIST_STUB: "x" },
            {},
        );
        expect(() => debianSources(mirror, "http://deb.debian.org/debian-security")).toThrow(/workstation\.base\.aptMirror: expected an http/);
        expect(r.status).not.toBe(0);
        expect(r.out).toMatch(/aihpc: error: workstation\.base\.aptMirror/);
        expect(fs.existsSync(sources)).toBe(false);
    });

    test("time.sh refuses a time zone that is a path before linking it; the chrony renderer refuses NTP servers that are not host names", () => {
        const redirect = { "/etc/localtime": path.join(tmp, "localtime"), "/etc/timezone": path.join(tmp, "timezone") };
        const tz = run("base-system", "time.sh", { AIHPC_ACTION: "apply", TIMEZONE: "../../../etc/shadow", SOURCES_FILE: path.join(tmp, "aihpc.sources") }, redirect);
        expect(tz.out).toMatch(/workstation\.base\.timezone: '\.\.\/\.\.\/\.\.\/etc\/shadow' is not a time zone name/);
        expect(fs.existsSync(path.join(tmp, "localtime"))).toBe(false);
        for (const bad of ["*", "a;reboot", "-n", "a b"]) {
            expect(() => chronySources(["ntp.example.org", bad])).toThrow(`workstation.base.ntpServers: '${bad}' is not a host name`);
        }
        expect(chronySources(["ntp.example.org", "10.0.0.1"])).toBe("# Managed by aihpc (workstation.base.ntpServers).\nserver ntp.example.org iburst\nserver 10.0.0.1 iburst");
        expect(chronySources([])).toBeUndefined();
    });
});

describe("teardown removes only what the stack created", () => {
    const lock = "torch==2.7.1 \\\n    --hash=sha256:" + "0".repeat(64);
    const venvEnv = (venv: string, action: string) => ({ AIHPC_ACTION: action, VENV: venv, LOCK: lock, INDEX_URL: "https://pypi.org/simple", TORCH: "2.7.1", TORCH_CUDA: "12.6", MARKER: VENV_MARKER });
    const noRetain = "aihpc_retain() { return 1; }";

    test("the venv: a folder with pyvenv.cfg but no marker of ours is kept on destroy", () => {
        const home = path.join(tmp, "home-alice");
        fs.mkdirSync(path.join(home, "thesis"), { recursive: true });
        fs.writeFileSync(path.join(home, "pyvenv.cfg"), "home = /usr/bin\n");
        const r = run("ml-runtime", "venv.sh", venvEnv(home, "delete"), {}, noRetain);
        expect(r.status).toBe(0);
        expect(r.out).toMatch(/keeping .*no \.aihpc-venv marker/);
        expect(fs.existsSync(path.join(home, "thesis"))).toBe(true);
    });

    test("the venv: apply refuses a folder that holds more than a venv (so it never marks it as ours)", () => {
        const home = path.join(tmp, "home-bob");
        fs.mkdirSync(path.join(home, "data"), { recursive: true });
        const r = run("ml-runtime", "venv.sh", venvEnv(home, "apply"), {});
        expect(r.status).not.toBe(0);
        expect(r.out).toMatch(/workstation\.mlRuntime\.path: .* already exists and holds .*data, which is not part of a venv/);
        expect(fs.existsSync(path.join(home, ".aihpc-venv"))).toBe(false);
    });

    test("the venv: with the marker our step wrote, destroy removes it", () => {
        const venv = path.join(tmp, "opt-ml");
        fs.mkdirSync(path.join(venv, "bin"), { recursive: true });
        fs.writeFileSync(path.join(venv, ".aihpc-venv"), "# Created by aihpc\n");
        const r = run("ml-runtime", "venv.sh", venvEnv(venv, "delete"), {}, noRetain);
        expect(r.status).toBe(0);
        expect(fs.existsSync(venv)).toBe(false);
    });

    test("CUDA modules: an administrator's own module files in the same folder survive apply and destroy", () => {
        const dir = path.join(tmp, "lmod-cuda");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "11.8.lua"), "-- the admin's own\n");
        expect(run("nvidia", "modules.sh", { AIHPC_ACTION: "apply", MODULES_DIR: dir, MODULE_FILES: cudaModuleFiles(["12.8"]), DEFAULT_VERSION: "12.8" }, {}).status).toBe(0);
        expect(fs.readdirSync(dir).sort()).toEqual(["11.8.lua", "12.8.lua", "default"]);
        expect(run("nvidia", "modules.sh", { AIHPC_ACTION: "delete", MODULES_DIR: dir }, {}, "aihpc_retain() { return 0; }").status).toBe(0);
        expect(fs.readdirSync(dir)).toEqual(["11.8.lua"]);
    });
});
