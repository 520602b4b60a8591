// apt-proxy.sh fails in seconds, before writing anything, when nothing
// answers at the proxy's host and port, naming the setting (never the
// credentials). Run for real with lib.sh in front; only the failure path, so
// nothing on this machine changes. The testbed proves the rest
// (tests/testbed/workstation.test.ts 6b).
import { spawnSync } from "child_process";
import * as path from "path";
import { stepScript } from "../../../components/steps";
import { requireRoot } from "../../helpers/tools";

const DIR = path.join(__dirname, "../../../components/workstation/base-system/scripts");

const probe = (proxy: string) => {
    const t0 = Date.now();
    const r = spawnSync("bash", ["-c", stepScript(DIR, "apt-proxy.sh"), "aihpc-step"], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, AIHPC_ACTION: "apply", AIHPC_STEP_NAME: "apt-proxy", APT_PROXY: proxy, CONF_FILE: "/nonexistent/80aihpc-proxy", AUTH_FILE: "/nonexistent/80aihpc-proxy.conf" },
    });
    return { status: r.status, out: r.stdout + r.stderr, ms: Date.now() - t0 };
};

beforeAll(() => requireRoot());

test.each([
    ["http://127.0.0.1:1", "127.0.0.1:1"],
    ["http://127.0.0.1:1/some/path", "127.0.0.1:1"],
    ["http://aihpc:s3cret@127.0.0.1:1/", "127.0.0.1:1"],
    ["http://[::1]:1/", "[::1]:1"],
])("%s: exit 1 within seconds, naming workstation.aptProxy and %s", (proxy, where) => {
    const r = probe(proxy);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`aihpc: error: workstation.aptProxy: nothing answers at ${where} from `);
    expect(r.out).not.toContain("s3cret");
    expect(r.out).not.toMatch(/wrote /);
    expect(r.ms).toBeLessThan(6000);
});
