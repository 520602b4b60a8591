// Boots two real Debian 12 hosts and checks the testbed itself: systemd, names,
// SSH host key pinning, the apt proxy, the cgroup remount, fake GPUs, teardown,
// and cleanup after a crashed run.
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { bootTestbed, cleanupStale, PROXY_PORT, BRIDGE_ADDRESS, STATE_ROOT, Testbed, TestHost } from "./hosts";

// jest ignores testTimeout in a project entry; boot can take minutes on a cold cache.
jest.setTimeout(900_000);

const log = (m: string) => process.stdout.write(`[testbed] ${m}\n`);

function pidAlive(pid: number): boolean {
  return fs.existsSync(`/proc/${pid}`);
}

function netnsList(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter(Boolean);
}

function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1])
    .filter((m) => m !== undefined && (m === dir || m.startsWith(`${dir}/`)));
}

function expectGone(pids: number[], netns: string[], runDir: string): void {
  for (const pid of pids) expect(pidAlive(pid)).toBe(false);
  const left = netnsList();
  for (const ns of netns) expect(left).not.toContain(ns);
  expect(mountsUnder(runDir)).toEqual([]);
  expect(fs.existsSync(runDir)).toBe(false);
  expect(fs.readdirSync(STATE_ROOT).filter((f) => f.endsWith(".json"))).toEqual([]);
}

describe("testbed: two booted Debian 12 hosts", () => {
  let tb: Testbed | undefined;
  let ws1: TestHost;
  let ws2: TestHost;

  beforeAll(async () => {
    const t0 = Date.now();
    tb = await bootTestbed({ names: ["ws1", "ws2"], fakeGpus: true, log });
    log(`boot of 2 hosts took ${Date.now() - t0} ms`);
    [ws1, ws2] = tb.hosts;
  });

  afterAll(async () => {
    // Normally destroyed by the teardown test; this covers a failure before it.
    if (tb) await tb.destroy();
  });

  test("systemd is running in both hosts, with no failed units", async () => {
    for (const h of [ws1, ws2]) {
      expect({ name: h.name, state: h.bootState, failed: h.failedUnits }).toEqual({ name: h.name, state: "running", failed: [] });
      expect((await tb!.sshOk(h, "systemctl is-system-running")).trim()).toBe("running");
      expect((await tb!.sshOk(h, "ps -p 1 -o comm=")).trim()).toBe("systemd");
    }
  });

  test("each host has its own name, address, machine-id and host key", async () => {
    const ids = new Set<string>();
    for (const h of [ws1, ws2]) {
      expect((await tb!.sshOk(h, "hostname")).trim()).toBe(h.name);
      expect(await tb!.sshOk(h, "ip -4 -o addr show dev eth0")).toContain(`${h.address}/24`);
      ids.add((await tb!.sshOk(h, "cat /etc/machine-id")).trim());
      expect(await tb!.sshOk(h, "cat /etc/hosts")).not.toContain("127.0.1.1");
      expect(h.hostKey).toMatch(/^ssh-ed25519 AAAA\S+$/);
    }
    expect(ids.size).toBe(2);
    expect(ws1.hostKey).not.toBe(ws2.hostKey);
  });

  test("hosts reach each other by name", async () => {
    expect(await tb!.sshOk(ws1, "getent hosts ws2")).toMatch(new RegExp(`^${ws2.address.replace(/\./g, "\\.")}\\s+ws2`));
    expect(await tb!.sshOk(ws2, "getent hosts ws1")).toMatch(new RegExp(`^${ws1.address.replace(/\./g, "\\.")}\\s+ws1`));
    await tb!.sshOk(ws1, "ping -c1 -W2 ws2");
    // TCP to the peer's sshd, by name.
    expect(await tb!.sshOk(ws1, "timeout 5 bash -c 'exec 3<>/dev/tcp/ws2/22; head -c 7 <&3'")).toBe("SSH-2.0");
    // No route out of the testbed subnet.
    expect(await tb!.sshOk(ws1, "ip route show default")).toBe("");
  });

  test("the pinned host key is enforced", async () => {
    const bad = path.join(tb!.runDir, "known_hosts.wrong");
    // ws1's names with ws2's key: a man in the middle as ssh sees it.
    fs.writeFileSync(bad, `${ws1.name},${ws1.address} ${ws2.hostKey}\n`);
    const r = await tb!.ssh(ws1, "true", { knownHostsFile: bad });
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);

    const empty = path.join(tb!.runDir, "known_hosts.empty");
    fs.writeFileSync(empty, "");
    const r2 = await tb!.ssh(ws1, "true", { knownHostsFile: empty });
    expect(r2.code).toBe(255);
    expect(fs.readFileSync(empty, "utf8")).toBe(""); // never accept-new

    // The served key is the pinned one.
    const scan = await tb!.sshOk(ws1, "cat /etc/ssh/ssh_host_ed25519_key.pub");
    expect(scan.trim().split(/\s+/).slice(0, 2).join(" ")).toBe(ws1.hostKey);
  });

  test("ssh passes stdin and exit codes", async () => {
    const r = await tb!.ssh(ws2, "cat; exit 3", { stdin: "hello\n" });
    expect(r).toEqual({ stdout: "hello\n", stderr: "", code: 3 });
  });

  test("apt-get update works through the proxy, and the proxy allows only the registry", async () => {
    expect(tb!.proxyUrl).toBe(`http://${BRIDGE_ADDRESS}:${PROXY_PORT}`);
    const out = await tb!.sshOk(ws1, "apt-get update 2>&1", { timeoutMs: 300_000 });
    expect(out).toMatch(/^(Get|Hit):\d+ http/m);
    expect(out).not.toMatch(/^(Err|W):/m);
    // .invalid never resolves; tinyproxy's filter answers before any lookup.
    const code = await tb!.sshOk(ws1, `curl -s -o /dev/null -w '%{http_code}' -x ${tb!.proxyUrl} http://blocked.invalid/`);
    expect(code).toBe("403");
  });

  test("cgroup v1 controllers are writable, fake GPU node exists", async () => {
    for (const h of [ws1, ws2]) {
      expect((await tb!.sshOk(h, "systemctl is-active testbed-cgroup-remount.service")).trim()).toBe("active");
      const probe = `aihpc-testbed-probe-${h.name}`;
      await tb!.sshOk(h, `mkdir /sys/fs/cgroup/memory/${probe} && rmdir /sys/fs/cgroup/memory/${probe}`);
      expect(h.fakeGpuFiles).toEqual(["/dev/fakegpu0"]);
      // 195 = 0xc3
      expect((await tb!.sshOk(h, "stat -c '%F %t:%T' /dev/fakegpu0")).trim()).toBe("character special file c3:0");
    }
  });

  test("teardown leaves no process, netns, mount or run dir", async () => {
    const t = tb!;
    const pids = t.hosts.map((h) => h.pid);
    const netns = t.hosts.map((h) => h.netns);
    for (const pid of pids) expect(pidAlive(pid)).toBe(true);
    const t0 = Date.now();
    await t.destroy();
    log(`teardown took ${Date.now() - t0} ms`);
    tb = undefined;
    expectGone(pids, netns, t.runDir);
  });
});

describe("testbed: cleanup after a crashed run", () => {
  test("cleanupStale removes what a SIGKILLed runner left", async () => {
    // A separate runner boots one host, prints its state, then dies without teardown.
    const script = `
      const { bootTestbed } = require(${JSON.stringify(path.join(__dirname, "hosts"))});
      bootTestbed({ names: ["crash1"], prepare: false }).then((tb) => {
        process.stdout.write(JSON.stringify({ pid: tb.hosts[0].pid, netns: tb.hosts[0].netns, runDir: tb.runDir }) + "\\n");
        process.kill(process.pid, "SIGKILL");
      }, (e) => { console.error(e); process.exit(2); });`;
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      cwd: path.join(__dirname, "../.."),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const sig = await new Promise<string | null>((resolve) => child.once("close", (_c, s) => resolve(s)));
    expect(sig).toBe("SIGKILL");
    const left = JSON.parse(out.trim()) as { pid: number; netns: string; runDir: string };
    expect(pidAlive(left.pid)).toBe(true);
    expect(netnsList()).toContain(left.netns);
    expect(mountsUnder(left.runDir).length).toBeGreaterThan(0);

    const t0 = Date.now();
    await cleanupStale(log);
    log(`cleanupStale took ${Date.now() - t0} ms`);
    expectGone([left.pid], [left.netns], left.runDir);
  });
});
