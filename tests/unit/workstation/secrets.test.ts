// Secrets that used to be plain settings (issue 11, item 6): the apt proxy's
// credentials and the alert webhook's token have secret keys of their own,
// travel on the step's stdin only (a secret in state, never in a command
// string or the plan) and land in 0600 files. The scripts run for real in a
// scratch root.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { alertmanagerConfig, ALERT_WEBHOOK_SECRET_FILE } from "../../../components/workstation/monitoring";
import { aptProxyAuth, aptProxyConf, PATHS, proxyMachine } from "../../../components/workstation/base-system";
import { stepReceived } from "../../helpers/steps";
import { stepScript } from "../../../components/steps";
import { configProblems, containsSecret, parseConfig, reveal, runProgram } from "../../helpers/harness";
import { oneHost } from "../../helpers/fixtures";
import { requireRoot, requireTool } from "../../helpers/tools";

const PROXY_CRED = "proxyuser:Pr0xy-S3cret-Value";
const WEBHOOK_TOKEN = "wh-T0ken-S3cret-Value";
const SECRETS = ["sshPrivateKey", "aptProxyCredentials", "alertWebhookSecret"];
/** An HTTP proxy on a free port that answers 407 unless it gets Basic proxyuser:Pr0xy-S3cret-Value; prints its port. */
const AUTH_PROXY = `
import base64, http.server, sys
want = "Basic " + base64.b64encode(b"${PROXY_CRED}").decode()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.headers.get("Proxy-Authorization") != want:
            self.send_response(407); self.send_header("Proxy-Authenticate", 'Basic realm="t"'); self.send_header("Content-Length", "0"); self.end_headers(); return
        b = b"authenticated\\n"; self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_port, flush=True)
s.serve_forever()
`;
const SCRIPTS = path.resolve(__dirname, "..", "..", "..", "components", "workstation");

function withSecrets(): Record<string, any> {
    const raw = oneHost();
    raw.workstation.aptProxy = "http://10.213.0.1:3128";
    raw.workstation.monitoring = { alertmanager: { webhookUrl: "https://alerts.example.com/hook", webhookAuth: "bearer" } };
    raw.aptProxyCredentials = PROXY_CRED;
    raw.alertWebhookSecret = WEBHOOK_TOKEN;
    return raw;
}

describe("secret keys for the proxy credentials and the webhook token", () => {
    test("accepted as secrets; refused in plain text, in the URL, without their setting, or in a form their file cannot hold", () => {
        expect(configProblems(withSecrets(), SECRETS)).toEqual([]);
        expect(configProblems(withSecrets(), ["sshPrivateKey"]).join("\n")).toMatch(/aihpc:aptProxyCredentials: expected a Pulumi secret.*\n.*aihpc:alertWebhookSecret: expected a Pulumi secret/);
        const inUrl = withSecrets();
        inUrl.workstation.aptProxy = "http://proxyuser:Pr0xy@10.213.0.1:3128";
        inUrl.workstation.monitoring.alertmanager.webhookUrl = "https://u:wh-T0ken@alerts.example.com/hook";
        const urlProblems = configProblems(inUrl, SECRETS).join("\n");
        expect(urlProblems).toMatch(/aihpc:workstation\.aptProxy: .*credentials/);
        expect(urlProblems).toMatch(/aihpc:workstation\.monitoring\.alertmanager\.webhookUrl: .*credentials/);
        const orphan = withSecrets();
        delete orphan.workstation.aptProxy;
        orphan.workstation.monitoring.alertmanager = { webhookUrl: "https://alerts.example.com/hook" };
        expect(configProblems(orphan, SECRETS)).toEqual([
            "aihpc:aptProxyCredentials: set, but workstation.aptProxy is not: remove the secret (`pulumi config rm aihpc:aptProxyCredentials`) or set the proxy",
            expect.stringMatching(/^aihpc:alertWebhookSecret: set, but workstation\.monitoring\.alertmanager\.webhookAuth is 'none'/),
        ]);
        const missing = withSecrets();
        delete missing.alertWebhookSecret;
        missing.workstation.monitoring.alertmanager.webhookAuth = "basic";
        expect(configProblems(missing, SECRETS)).toEqual([
            expect.stringMatching(/^aihpc:alertWebhookSecret: required with workstation\.monitoring\.alertmanager\.webhookAuth 'basic'/),
            "aihpc:workstation.monitoring.alertmanager.webhookUser: required with webhookAuth 'basic': the user name the webhook expects",
        ]);
        const spaced = withSecrets();
        spaced.aptProxyCredentials = "user:pass word";
        const msg = configProblems(spaced, SECRETS).join("\n");
        expect(msg).toMatch(/aihpc:aptProxyCredentials: expected `user:password` on one line/);
        expect(msg).not.toContain("pass word");
    });

    test("the plan: no command string carries either secret; each rides on its step's stdin, marked secret", async () => {
        const rec = await runProgram(withSecrets(), { secrets: SECRETS });
        const b64 = (s: string) => Buffer.from(s).toString("base64");
        for (const r of rec.resources) {
            const { stdin, ...rest } = reveal(r.inputs) as Record<string, unknown>;
            const text = JSON.stringify(rest);
            for (const s of [PROXY_CRED, "Pr0xy-S3cret-Value", WEBHOOK_TOKEN]) {
                expect(text).not.toContain(s);
                expect(text).not.toContain(b64(s));
            }
            if (stdin !== undefined && JSON.stringify(stdin).match(/Pr0xy|wh-T0ken/)) expect(containsSecret(r.inputs)).toBe(true);
        }
        const proxy = rec.named("ws-ws1-base-apt-proxy");
        expect(containsSecret((proxy.inputs as any).stdin)).toBe(true);
        // The credentials' file (rendered in base-system/files.ts) is what the step's stdin hands on.
        expect(stepReceived(rec.inputsOf("ws-ws1-base-apt-proxy")).stdin).toBe(aptProxyAuth("http://10.213.0.1:3128", PROXY_CRED));
        expect(rec.inputsOf("ws-ws1-base-apt-proxy").create).toContain("PROXY_AUTH='1'");
        const am = rec.named("ws-monitoring-ws1-alertmanager");
        expect(containsSecret((am.inputs as any).stdin)).toBe(true);
        expect(rec.inputsOf("ws-monitoring-ws1-alertmanager").create).toContain("WEBHOOK_SECRET='1'");
    });

    test("alertmanager.yml names the secret file, never the secret, and amtool accepts it (bearer and basic)", () => {
        const cfg = parseConfig(withSecrets(), SECRETS);
        const bearer = alertmanagerConfig(cfg.workstation.monitoring);
        expect(bearer).toContain(`credentials_file: ${ALERT_WEBHOOK_SECRET_FILE}`);
        expect(bearer).not.toContain(WEBHOOK_TOKEN);
        const raw = withSecrets();
        Object.assign(raw.workstation.monitoring.alertmanager, { webhookAuth: "basic", webhookUser: "alerts" });
        const basic = alertmanagerConfig(parseConfig(raw, SECRETS).workstation.monitoring);
        expect(basic).toMatch(/basic_auth:\n\s+username: alerts\n\s+password_file: \/etc\/prometheus\/alertmanager-webhook\.secret/);
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-am-"));
        for (const [name, text] of [["bearer.yml", bearer], ["basic.yml", basic]]) {
            fs.writeFileSync(path.join(tmp, name), text);
            const r = spawnSync(requireTool("amtool"), ["check-config", path.join(tmp, name)], { encoding: "utf8" });
            expect(`${r.stdout}${r.stderr}`).toContain("SUCCESS");
        }
        fs.rmSync(tmp, { recursive: true, force: true });
        expect(proxyMachine("https://proxy.example.com")).toBe("https://proxy.example.com");
        expect(aptProxyAuth("http://10.213.0.1:3128", PROXY_CRED)).toMatch(/\nmachine http:\/\/10\.213\.0\.1:3128\nlogin proxyuser\npassword Pr0xy-S3cret-Value$/);
        expect(() => aptProxyAuth("http://p:3128", "nocolon")).toThrow(/must be user:password/);
    });
});

describe("the steps write the secrets 0600, from stdin, run for real in a scratch root", () => {
    let tmp: string;
    beforeAll(() => {
        requireRoot();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-secret-"));
    });
    afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

    const lib = (text: string) => text.replace(/\n# Run as `bash lib\.sh[\s\S]*?\nfi\n/, "\n");

    test("apt-proxy.sh: auth.conf.d file 0600 root:root with the credentials; unchanged on a re-run; removed without them", () => {
        const root = path.join(tmp, "apt");
        const script = lib(stepScript(path.join(SCRIPTS, "base-system", "scripts"), "apt-proxy.sh"))
            // No proxy to probe here.
            .replace(/timeout 5 bash -c /, "true ");
        const url = "http://10.213.0.1:3128";
        const files = { CONF_FILE: `${root}${PATHS.aptProxy}`, AUTH_FILE: `${root}${PATHS.aptProxyAuth}`, PROXY_CONF: aptProxyConf(url) };
        const run = (env: Record<string, string>, input: string) =>
            spawnSync("bash", ["-c", script, "aihpc-step"], { input, encoding: "utf8", env: { ...process.env, AIHPC_ACTION: "apply", APT_PROXY: url, ...files, ...env } });
        const on = { PROXY_AUTH: "1" };
        const authText = aptProxyAuth(url, PROXY_CRED);
        const r = run(on, authText);
        expect(r.stderr).toBe("");
        expect(r.stdout.trim().split("\n").pop()).toBe("aihpc: changed");
        expect(r.stdout).not.toContain("Pr0xy");
        const auth = path.join(root, "etc/apt/auth.conf.d/80aihpc-proxy.conf");
        const st = fs.statSync(auth);
        expect([(st.mode & 0o777).toString(8), st.uid, st.gid]).toEqual(["600", 0, 0]);
        expect(fs.readFileSync(auth, "utf8")).toMatch(/\nmachine http:\/\/10\.213\.0\.1:3128\nlogin proxyuser\npassword Pr0xy-S3cret-Value\n$/);
        // The proxy file itself holds no credential.
        expect(fs.readFileSync(path.join(root, "etc/apt/apt.conf.d/80aihpc-proxy"), "utf8")).not.toContain("Pr0xy");
        expect(run(on, authText).stdout.trim()).toBe("aihpc: unchanged");
        expect(run(on, "").stderr).toContain("no proxy credentials on stdin");
        expect(run({ PROXY_AUTH: "0" }, "").stdout).toContain(`removed ${auth}`);
        expect(fs.existsSync(auth)).toBe(false);
    });

    test("the file apt-proxy.sh writes makes apt's own downloader authenticate to the proxy (apt 2.6, a proxy that demands Basic auth)", async () => {
        requireTool("/usr/lib/apt/apt-helper");
        const root = path.join(tmp, "apt-live");
        const proxy = spawn("python3", ["-c", AUTH_PROXY], { stdio: ["ignore", "pipe", "inherit"] });
        try {
            const port = await new Promise<string>((resolve, reject) => {
                proxy.stdout!.once("data", (d) => resolve(String(d).trim()));
                proxy.once("exit", () => reject(new Error("the test proxy exited")));
            });
            const script = lib(stepScript(path.join(SCRIPTS, "base-system", "scripts"), "apt-proxy.sh")).replace(/timeout 5 bash -c /, "true ");
            const url = `http://127.0.0.1:${port}`;
            const w = spawnSync("bash", ["-c", script, "aihpc-step"], {
                input: aptProxyAuth(url, PROXY_CRED),
                encoding: "utf8",
                env: { ...process.env, AIHPC_ACTION: "apply", APT_PROXY: url, PROXY_AUTH: "1", CONF_FILE: `${root}${PATHS.aptProxy}`, AUTH_FILE: `${root}${PATHS.aptProxyAuth}`, PROXY_CONF: aptProxyConf(url) },
            });
            expect(w.stderr).toBe("");
            const out = path.join(root, "out");
            fs.mkdirSync(out, { recursive: true, mode: 0o777 });
            fs.chmodSync(out, 0o777);
            const fetch = (netrc: string) =>
                spawnSync("/usr/lib/apt/apt-helper", ["-o", `Acquire::http::Proxy=${url}`, "-o", `Dir::Etc::netrcparts=${netrc}`, "download-file", "http://repo.invalid/x", path.join(out, "x")], { encoding: "utf8" });
            // Without the file the proxy refuses (407); with it apt sends the credentials and gets the file.
            expect(fetch(path.join(root, "none")).stderr).toContain("407");
            const ok = fetch(path.join(root, "etc/apt/auth.conf.d"));
            expect(`${ok.stdout}${ok.stderr}`).not.toContain("407");
            expect(fs.readFileSync(path.join(out, "x"), "utf8")).toBe("authenticated\n");
        } finally {
            proxy.kill();
        }
    });

    test("alertmanager.sh: the webhook secret file 0600 for Alertmanager's user, from stdin; removed when the secret goes", () => {
        const root = path.join(tmp, "am");
        const bin = path.join(root, "bin");
        fs.mkdirSync(bin, { recursive: true });
        // Stand-ins: systemd (Alertmanager runs as `nobody` here), amtool and the readiness probe.
        const fake = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        fake("systemctl", 'case "$1" in show) echo nobody ;; is-enabled|is-active) exit 0 ;; esac; exit 0');
        fake("amtool", "exit 0");
        fake("curl", "exit 0");
        const script = lib(stepScript(path.join(SCRIPTS, "monitoring", "scripts"), "alertmanager.sh"))
            .replace(/\/etc\/prometheus\//g, `${root}/etc/prometheus/`)
            .replace(/\/etc\/systemd\//g, `${root}/etc/systemd/`)
            .replace("aihpc_require_systemd\n", ":\n")
            .replace("aihpc_apt_install alertmanager prometheus-alertmanager\n", ":\n");
        const run = (secret: string, input: string) =>
            spawnSync("bash", ["-c", script, "aihpc-step"], {
                input,
                encoding: "utf8",
                env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIHPC_ACTION: "apply", READY_URL: "http://127.0.0.1:9093/-/ready", DROPIN: "[Service]", WEBHOOK_SECRET: secret, ALERTMANAGER_YML: "route: {receiver: d}" },
            });
        const r = run("1", `${WEBHOOK_TOKEN}\n`);
        expect(r.stderr).toBe("");
        expect(r.stdout.trim().split("\n").pop()).toBe("aihpc: changed");
        const file = path.join(root, "etc/prometheus/alertmanager-webhook.secret");
        const st = fs.statSync(file);
        const nobody = Number(spawnSync("id", ["-u", "nobody"], { encoding: "utf8" }).stdout.trim());
        expect([(st.mode & 0o777).toString(8), st.uid]).toEqual(["600", nobody]);
        expect(fs.readFileSync(file, "utf8")).toBe(`${WEBHOOK_TOKEN}\n`);
        expect(run("1", `${WEBHOOK_TOKEN}\n`).stdout.trim()).toBe("aihpc: unchanged");
        expect(run("1", "").stderr).toContain("no webhook secret on stdin");
        expect(run("0", "").stdout).toContain(`removed ${file}`);
    });
});
