// Payloads out of the command line, on a booted host: the step bundle is
// copied and unpacked after the preflight gate, a real step script runs from
// it, and a 1 MiB file rendered for the host reaches it on stdin (a command
// line caps one argument at 128 KiB). A second apply runs nothing; destroy
// removes the file, then the bundle, and the copied archive is gone.
import { createHash } from "crypto";
import * as path from "path";
import { HostConfig, SecretValue } from "../../config";
import { gateOnAllHosts, Host } from "../../components/workstation/host";
import { scriptStep } from "../../components/steps";
import { ENV_FILE } from "../../components/hybrid/data";
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { countOps, Executor } from "./executor";

jest.setTimeout(900_000);

const log = (m: string) => process.stdout.write(`[payload] ${m}\n`);
const ENV_SCRIPTS = path.resolve(__dirname, "..", "..", "components", "hybrid", "data", "scripts");

/** 1 MiB and a bit of text, different per seed, with quotes and shell syntax that must survive. */
function bigText(seed: string): string {
    const line = `k='v' "$HOME" $(true) ; # ${seed}\n`;
    return line.repeat(Math.ceil((1024 * 1024 + 100) / line.length));
}

function program(raw: Record<string, string>): unknown {
    const c = JSON.parse(raw["aihpc:payload"]) as { address: string; hostKey: string; seed: string };
    const hostCfg = { name: "pl1", address: c.address, port: 22, user: "root", hostKey: c.hostKey, roles: ["controller", "compute"], gpus: { count: 0 } } as HostConfig;
    const host = new Host("payload-pl1", { host: hostCfg, transport: "ssh", privateKey: new SecretValue(raw["aihpc:sshPrivateKey"]) });
    gateOnAllHosts("payload", [host]);
    const step = scriptStep("payload-env", host.transport, { dir: ENV_SCRIPTS, file: "env.sh", env: { ENV_FILE_PATH: ENV_FILE }, deleteEnv: { ENV_FILE_PATH: ENV_FILE }, files: { ENV_FILE: bigText(c.seed) } }, { parent: host, dependsOn: [host.ready] });
    return { out: (step as { stdout: unknown }).stdout };
}

describe("payloads out of the command line, on a booted host", () => {
    let tb: Testbed;
    let h: TestHost;
    let ex: Executor;
    const cfg = (seed: string): Record<string, string> => ({
        "aihpc:payload": JSON.stringify({ address: h.address, hostKey: h.hostKey, seed }),
        "aihpc:sshPrivateKey": tb.privateKey,
    });
    const sha = (s: string) => createHash("sha256").update(s.replace(/\n+$/, "") + "\n").digest("hex");

    beforeAll(async () => {
        tb = await bootTestbed({ names: ["pl1"], log });
        h = tb.hosts[0];
        ex = new Executor({ program: (c) => program(c), log });
    });
    afterAll(async () => {
        ex?.dispose();
        await tb?.destroy();
    });

    test("a 1 MiB file on stdin reaches a bundled step; the commands stay small; a re-apply runs nothing", async () => {
        const r = await ex.apply(cfg("one"), ["aihpc:sshPrivateKey"]);
        if (r.error) throw r.error;
        expect(r.ran.map((c) => c.name)).toEqual(["payload-pl1-facts", "payload-pl1-bundle-copy", "payload-pl1-bundle", "payload-env"]);
        for (const c of r.ran) expect([c.name, c.command.length < 4096]).toEqual([c.name, true]);
        expect(r.ran.find((c) => c.name === "payload-env")!.stdout.trim().split("\n").pop()).toBe("aihpc: changed");
        expect((await tb.sshOk(h, "sha256sum < /etc/aihpc/hybrid.env")).split(" ")[0]).toBe(sha(bigText("one")));
        expect((await tb.sshOk(h, "stat -c %s /etc/aihpc/hybrid.env")).trim()).toBe(String(Buffer.byteLength(bigText("one").replace(/\n+$/, "") + "\n")));
        // The archive was checked and unpacked, then removed from /var/tmp.
        expect((await tb.sshOk(h, "ls /var/tmp | grep -c aihpc-bundle || true")).trim()).toBe("0");
        expect((await tb.sshOk(h, "ls /var/lib/aihpc/bundle/.versions")).trim().split("\n")).toContain("order");

        const again = await ex.apply(cfg("one"), ["aihpc:sshPrivateKey"]);
        expect(again.error).toBeUndefined();
        expect(countOps(again.ran)).toEqual({ create: 0, update: 0, delete: 0 });
    });

    test("another 1 MiB text updates only that step", async () => {
        const r = await ex.apply(cfg("two"), ["aihpc:sshPrivateKey"]);
        if (r.error) throw r.error;
        expect(r.ran.map((c) => `${c.op} ${c.name}`)).toEqual(["update payload-env"]);
        expect((await tb.sshOk(h, "sha256sum < /etc/aihpc/hybrid.env")).split(" ")[0]).toBe(sha(bigText("two")));
    });

    test("destroy removes the file, then the bundle, and any copy an install never took", async () => {
        await tb.sshOk(h, "touch /var/tmp/aihpc-bundle-0123456789abcdef.tar.gz");
        const d = await ex.destroy();
        if (d.error) throw d.error;
        expect(d.ran.map((c) => c.name)).toEqual(["payload-env", "payload-pl1-bundle"]);
        expect((await tb.ssh(h, "test -e /etc/aihpc/hybrid.env || test -e /var/lib/aihpc")).code).not.toBe(0);
        expect((await tb.sshOk(h, "ls /var/tmp | grep -c aihpc-bundle || true")).trim()).toBe("0");
    });
});
