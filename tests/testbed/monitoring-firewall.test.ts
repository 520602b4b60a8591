// Issue 18, monitoring behind the cluster's network, on booted Debian 12 hosts:
// ws1 (controller) and ws2 form the cluster; "out" is a host on the same
// bridge that is not part of it, and so is this machine (the bridge's
// address) until it is listed as an admin network. Slurm and Grafana are off
// (Grafana's repository is out of the testbed's reach; its settings are
// checked under mocks in tests/unit/workstation/monitoring-render.test.ts).
import { bootTestbed, BRIDGE_ADDRESS, Testbed, TestHost } from "./hosts";
import { Executor, opsSummary } from "./executor";
import { testbedStackConfig } from "./stack-config";
import { eventually, nodeExportersUp } from "./cluster";
import { toCliConfig } from "../helpers/harness";

jest.setTimeout(1_200_000);

const log = (m: string) => process.stdout.write(`[firewall ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

/** How a TCP connection from `from` to addr:port ends: "open", "refused" (reset) or "timeout". */
async function probe(tb: Testbed, from: TestHost | "runner", addr: string, port: number): Promise<string> {
    const cmd = `timeout 5 bash -c 'exec 3<>/dev/tcp/${addr}/${port}' 2>&1 && echo open || echo failed`;
    const out = from === "runner" ? await runLocal(cmd) : (await tb.ssh(from, cmd)).stdout;
    if (out.includes("open")) return "open";
    if (/refused/i.test(out)) return "refused";
    return "timeout";
}

async function runLocal(cmd: string): Promise<string> {
    const { spawnSync } = await import("child_process");
    const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8" });
    return `${r.stdout}${r.stderr}`;
}

describe("monitoring behind the cluster's network (issue 18)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ws2: TestHost;
    let out: TestHost;
    let ex: Executor;

    const config = (adminNetworks: string[]) => {
        const { config: c, secretKeys } = testbedStackConfig(tb, { hosts: [ws1, ws2] });
        const ws = JSON.parse(c["aihpc:workstation"]);
        ws.slurm = { enabled: false };
        ws.monitoring = { ...ws.monitoring, firewall: { adminNetworks } };
        return { config: { ...c, ...toCliConfig({ workstation: ws }).config }, secretKeys };
    };
    const apply = async (label: string, adminNetworks: string[]) => {
        const { config: c, secretKeys } = config(adminNetworks);
        const r = await ex.apply(c, secretKeys);
        log(`${label}: ${opsSummary(r.ran)} in ${r.durationMs} ms${r.error ? ` -- failed: ${r.error.message.slice(0, 1500)}` : ""}`);
        if (r.error) throw r.error;
        return r;
    };

    beforeAll(async () => {
        tb = await bootTestbed({ names: ["ws1", "ws2", "out"], log });
        [ws1, ws2, out] = tb.hosts;
        ex = new Executor({ stack: "testbed", log: (m) => log(`  ${m}`) });
    });

    afterAll(async () => {
        ex?.dispose();
        await tb?.destroy();
    });

    test("1. provisioned: the exporters and Prometheus answer the cluster, Prometheus scrapes both nodes through the firewall", async () => {
        await apply("first apply", []);
        const up = await eventually("prometheus: up == 1 for both node exporters", 120_000, async () => {
            const u = await nodeExportersUp(tb, ws1);
            return Object.keys(u).length === 2 && Object.values(u).every((v) => v === "1") ? u : undefined;
        });
        expect(Object.keys(up).sort()).toEqual(["ws1", "ws2"]);
        // From the controller, every monitoring port of the cluster answers.
        expect(await probe(tb, ws1, ws1.address, 9090)).toBe("open");
        expect(await probe(tb, ws1, ws1.address, 9100)).toBe("open");
        expect(await probe(tb, ws1, ws2.address, 9100)).toBe("open");
        expect(await probe(tb, ws2, ws1.address, 9090)).toBe("open");
        expect(await probe(tb, ws1, "127.0.0.1", 9093)).toBe("open");
        expect((await tb.sshOk(ws1, `curl -fsS http://${ws1.address}:9090/-/ready`)).trim()).toMatch(/Ready/);
    });

    test("2. from a host outside the cluster, and from this machine, the ports refuse; SSH still answers", async () => {
        for (const from of [out, "runner" as const]) {
            for (const [addr, port] of [
                [ws1.address, 9090],
                [ws1.address, 9100],
                [ws2.address, 9100],
            ] as [string, number][]) {
                expect([from === "runner" ? "runner" : from.name, addr, port, await probe(tb, from, addr, port)]).toEqual([from === "runner" ? "runner" : from.name, addr, port, "refused"]);
            }
            expect(await probe(tb, from, ws1.address, 22)).toBe("open");
        }
        // Alertmanager listens on loopback only, and its cluster port is off.
        expect(await probe(tb, ws2, ws1.address, 9093)).toBe("refused");
        const listening = await tb.sshOk(ws1, "ss -Htlnp");
        expect(listening).toMatch(/127\.0\.0\.1:9093\b/);
        expect(listening).not.toMatch(/:9094\b/);
        expect(listening).toContain(`${ws1.address}:9090`);
        expect(listening).toContain(`${ws1.address}:9100`);
        // The table is ours alone, and its unit loads it at boot.
        expect(await tb.sshOk(ws1, "systemctl is-enabled aihpc-firewall-monitoring.service")).toMatch(/enabled/);
        expect(await tb.sshOk(ws1, "nft list tables")).toContain("table inet aihpc_monitoring");
    });

    test("3. an admin network from config is admitted; the change reloads only the firewall steps", async () => {
        const r = await apply("admin network", [`${BRIDGE_ADDRESS}/32`]);
        expect(r.ran.map((c) => c.name).sort()).toEqual(["ws-monitoring-ws1-firewall", "ws-monitoring-ws2-firewall"]);
        expect(await probe(tb, "runner", ws1.address, 9090)).toBe("open");
        expect(await probe(tb, "runner", ws2.address, 9100)).toBe("open");
        expect(await probe(tb, out, ws1.address, 9090)).toBe("refused");
        // The unit's restart (as at boot) loads the same rules.
        await tb.sshOk(ws1, "systemctl restart aihpc-firewall-monitoring.service");
        expect(await probe(tb, out, ws1.address, 9090)).toBe("refused");
        expect(await probe(tb, "runner", ws1.address, 9090)).toBe("open");
        const again = await apply("no-op", [`${BRIDGE_ADDRESS}/32`]);
        expect(again.ran).toEqual([]);
    });

    test("4. destroy removes the table, the unit and the rules file", async () => {
        let r = await ex.destroy();
        log(`destroy: ${opsSummary(r.ran)}`);
        // Concurrent teardown steps on one host each run systemctl; systemd 252 in a container
        // has been seen to drop a call during another step's daemon-reload (ENOTCONN on its
        // private socket). That is the host's manager, not the step: destroy resumes where it stopped.
        if (r.error && /Transport endpoint is not connected|disconnected from message bus/.test(r.error.message)) {
            log(`destroy hit a dropped systemd call, resuming: ${r.error.message.split("\n").slice(-3).join(" | ")}`);
            r = await ex.destroy();
        }
        if (r.error) throw r.error;
        expect(Object.keys(ex.state.resources)).toEqual([]);
        for (const h of [ws1, ws2]) {
            expect(await tb.sshOk(h, "nft list tables 2>/dev/null || true")).not.toContain("aihpc_monitoring");
            expect((await tb.ssh(h, "test -e /etc/systemd/system/aihpc-firewall-monitoring.service || test -e /etc/aihpc/firewall-monitoring.nft")).code).not.toBe(0);
        }
    });
});
