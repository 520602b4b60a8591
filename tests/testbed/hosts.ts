// Real-host testbed: Debian 12 hosts with systemd as PID 1 in systemd-nspawn
// containers on a private bridge, reachable over SSH with pinned host keys.
// Every resource is recorded in a state file before it is created, so a crashed
// run can be cleaned up by cleanupStale() from another process. VM hosts
// (vm.ts) share the bridge, proxy, run state and clean-up defined here.
import { ChildProcess, execFile, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

export const STATE_ROOT = process.env.AIHPC_TESTBED_STATE ?? "/var/tmp/aihpc-testbed";
export const ROOTFS_CACHE = process.env.AIHPC_TESTBED_CACHE ?? "/var/cache/aihpc-testbed/rootfs-bookworm";
export const BRIDGE = "br-aihpc";
export const SUBNET_PREFIX = "10.213.0";
export const BRIDGE_ADDRESS = `${SUBNET_PREFIX}.1`;
export const PROXY_PORT = 3128;
export const PROXY_URL = `http://${BRIDGE_ADDRESS}:${PROXY_PORT}`;
const FIRST_HOST_OCTET = 11;
/** Containers take .11 up to .200; VM hosts (vm.ts) .201 up to .250. */
export const MAX_CONTAINER_HOSTS = 190;
const NETNS_PREFIX = "aihpc-tb-";
const VETH_PREFIX = "aihpcv";
/** Tap devices of VM hosts (vm.ts) on the bridge. */
export const TAP_PREFIX = "aihpct";
const SCRIPTS_DIR = path.join(__dirname, "scripts");
// Major 195 is NVIDIA's; no driver is loaded, so the node is inert but has
// its own major:minor for Slurm's ConstrainDevices (unlike /dev/null).
const FAKE_GPU_MAJOR = 195;

/** A non-root administrator on a host: the run's key in its authorized_keys, and sudo with or without a password. */
export interface TestAdmin {
  user: string;
  /** `nopasswd`: `USER ALL=(ALL) NOPASSWD: ALL`; `password`: `USER ALL=(ALL) ALL` and a password (sudo -n is refused). */
  sudo: "nopasswd" | "password";
}

export interface TestHost {
  name: string;
  address: string;
  /** sshd's port: 22 unless `hostOptions[name].sshPort`. */
  port: number;
  /** tb.ssh() logs in as root (every host keeps root's key); admins are for the stack. */
  user: "root";
  admins: TestAdmin[];
  /** The host's ed25519 public key, "ssh-ed25519 AAAA..." (no comment). */
  hostKey: string;
  /** Overlay root of the host as seen from this machine. */
  rootDir: string;
  /** PID of the systemd-nspawn process running the host. */
  pid: number;
  netns: string;
  /** nspawn console output (boot log). */
  logFile: string;
  /** Device nodes inside the host standing in for GPUs (empty without fakeGpus). */
  fakeGpuFiles: string[];
  /** `systemctl is-system-running` after boot: "running" or "degraded"; "no-systemd" for `withoutSystemd` hosts. */
  bootState: string;
  failedUnits: string[];
  /** Units that failed once at boot and started on a second try (logged in logFile). */
  retriedUnits: string[];
}

export interface SshResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface SshOptions {
  stdin?: string;
  timeoutMs?: number;
  /** Use another known_hosts file (tests of host key pinning). */
  knownHostsFile?: string;
}

export interface Testbed {
  runId: string;
  runDir: string;
  hosts: TestHost[];
  privateKey: string;
  privateKeyPath: string;
  knownHostsFile: string;
  proxyUrl: string;
  ssh(host: TestHost, command: string, opts?: SshOptions): Promise<SshResult>;
  /** Like ssh() but throws unless the command exits 0. */
  sshOk(host: TestHost, command: string, opts?: SshOptions): Promise<string>;
  /** Arguments for the ssh binary, up to and including the destination. */
  sshArgs(host: TestHost, opts?: { knownHostsFile?: string }): string[];
  /**
   * Boot one more container host into this run (not added to `hosts`): recorded in the run
   * state before anything is made, so cleanupStale() removes it after a crash like any other.
   * Resolves once its systemd runs (the boot itself goes on; waitBooted() waits for it).
   */
  addHost(opts: ExtraHostOptions): Promise<TestHost>;
  /** Stop a host added with addHost() and remove its overlay, netns and veth, and its record. */
  removeHost(name: string): Promise<void>;
  destroy(): Promise<void>;
}

export interface ExtraHostOptions {
  name: string;
  /** Device nodes made at boot (testbed-fakegpu.service), e.g. ["/dev/nvidia0"]. */
  fakeGpuFiles?: string[];
  /** More /etc/hosts lines ("ADDRESS NAME"). */
  etcHosts?: string[];
  /** Called with the host's root (the overlay, before boot) to add files and units. */
  prepare?: (root: string) => Promise<void> | void;
  /**
   * A boot time of its own, as a VM would have: the container runs in a time namespace whose
   * CLOCK_BOOTTIME starts near 0 (uptime, sysinfo). Containers otherwise report this machine's
   * uptime, and slurmctld keeps a resumed cloud node "waiting for boot" while the node's boot
   * time is older than the resume request.
   */
  ownBootTime?: boolean;
  /** /dev/net/tun inside (Debian's userspace wireguard-go: this machine's kernel has no WireGuard module). */
  tun?: boolean;
}

export interface BootOptions {
  names: string[];
  /** true for one fake GPU per host, or a count. */
  fakeGpus?: boolean | number;
  /**
   * Names of hosts started without systemd: sshd alone under nspawn's stub init
   * (`--as-pid2`), like a plain container reached over SSH. For tests of hosts
   * the stack must refuse.
   */
  withoutSystemd?: string[];
  /** Per host: sshd on another port (a drop-in in sshd_config.d, made before boot), admin users, /dev/net/tun. */
  hostOptions?: Record<string, { sshPort?: number; admins?: TestAdmin[]; tun?: boolean }>;
  bootTimeoutMs?: number;
  /** Run install-deps.sh and build-rootfs.sh first (default true). */
  prepare?: boolean;
  log?: (msg: string) => void;
}

// ---- state file ---------------------------------------------------------------

export interface ProcRef {
  pid: number;
  start: string; // /proc/PID/stat starttime, guards against PID reuse
}

export interface HostState {
  name: string;
  netns: string;
  vethHost: string;
  mountpoint: string;
  nspawn?: ProcRef;
  leader?: ProcRef; // container's init, child of nspawn
  /** VM hosts (vm.ts): no netns, veth or mount; a qemu process and a tap device on the bridge. */
  vm?: { tap: string; qemu?: ProcRef };
}

export interface RunState {
  runId: string;
  runDir: string;
  owner: ProcRef;
  bridge: string;
  proxy?: ProcRef;
  hosts: HostState[];
}

function stateFile(runId: string): string {
  return path.join(STATE_ROOT, `run-${runId}.json`);
}

export function saveState(s: RunState): void {
  const f = stateFile(s.runId);
  fs.writeFileSync(`${f}.tmp`, JSON.stringify(s, null, 2));
  fs.renameSync(`${f}.tmp`, f);
}

// ---- process helpers --------------------------------------------------------

function procStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22; the comm field (2) may contain spaces, so split after ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export function procRef(pid: number): ProcRef {
  const start = procStart(pid);
  if (start === undefined) throw new Error(`process ${pid} vanished`);
  return { pid, start };
}

export function alive(p: ProcRef | undefined): p is ProcRef {
  return p !== undefined && procStart(p.pid) === p.start;
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitGone(p: ProcRef, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(p)) return true;
    await sleep(200);
  }
  return !alive(p);
}

export function signal(p: ProcRef | undefined, sig: NodeJS.Signals): void {
  if (!alive(p)) return;
  try {
    process.kill(p.pid, sig);
  } catch {
    /* exited meanwhile */
  }
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export function exec(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ stdout: String(stdout), stderr: String(stderr) + (err && typeof err.code !== "number" ? String(err.message) : ""), code });
      },
    );
  });
}

export async function must(cmd: string, args: string[], opts?: { timeoutMs?: number }): Promise<string> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

// ---- network ---------------------------------------------------------------

export async function linkExists(name: string): Promise<boolean> {
  return (await exec("ip", ["link", "show", "dev", name])).code === 0;
}

async function listNetns(): Promise<string[]> {
  const r = await exec("ip", ["netns", "list"]);
  return r.stdout
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter(Boolean);
}

async function ensureBridge(): Promise<void> {
  if (!(await linkExists(BRIDGE))) await must("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  await must("ip", ["addr", "replace", `${BRIDGE_ADDRESS}/24`, "dev", BRIDGE]);
  await must("ip", ["link", "set", BRIDGE, "up"]);
}

async function setupHostNet(h: HostState, address: string): Promise<void> {
  const peer = `${h.vethHost}c`;
  // A crashed run may have left either end behind.
  if ((await listNetns()).includes(h.netns)) await exec("ip", ["netns", "delete", h.netns]);
  if (await linkExists(h.vethHost)) await exec("ip", ["link", "delete", h.vethHost]);
  if (await linkExists(peer)) await exec("ip", ["link", "delete", peer]);
  await must("ip", ["netns", "add", h.netns]);
  await must("ip", ["link", "add", h.vethHost, "type", "veth", "peer", "name", peer]);
  await must("ip", ["link", "set", peer, "netns", h.netns]);
  await must("ip", ["-n", h.netns, "link", "set", peer, "name", "eth0"]);
  await must("ip", ["-n", h.netns, "addr", "add", `${address}/24`, "dev", "eth0"]);
  await must("ip", ["-n", h.netns, "link", "set", "eth0", "up"]);
  await must("ip", ["-n", h.netns, "link", "set", "lo", "up"]);
  await must("ip", ["link", "set", h.vethHost, "master", BRIDGE]);
  await must("ip", ["link", "set", h.vethHost, "up"]);
}

// ---- proxy ---------------------------------------------------------------

/** Hosts of this machine's Debian (bookworm*) apt sources; the proxy allows only these. */
export function debianRegistryHosts(): string[] {
  const env = process.env.AIHPC_TESTBED_PROXY_HOSTS;
  if (env) return env.split(/[\s,]+/).filter(Boolean);
  const hosts = new Set<string>();
  const add = (uri: string) => {
    const m = /^https?:\/\/([^/:]+)/.exec(uri);
    if (m) hosts.add(m[1].toLowerCase());
  };
  const files: string[] = [];
  if (fs.existsSync("/etc/apt/sources.list")) files.push("/etc/apt/sources.list");
  const dir = "/etc/apt/sources.list.d";
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir).sort()) {
      if (f.endsWith(".list") || f.endsWith(".sources")) files.push(path.join(dir, f));
    }
  }
  for (const f of files) {
    const text = fs.readFileSync(f, "utf8");
    if (f.endsWith(".sources")) {
      for (const para of text.split(/\n\s*\n/)) {
        const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, "mi").exec(para)?.[1].trim().split(/\s+/) ?? [];
        if (field("Enabled")[0]?.toLowerCase() === "no") continue;
        if (!field("Suites").some((s) => s.startsWith("bookworm"))) continue;
        field("URIs").forEach(add);
      }
    } else {
      for (const line of text.split("\n")) {
        const t = line.replace(/\[[^\]]*\]/, "").trim().split(/\s+/);
        if (t[0] === "deb" && t[2]?.startsWith("bookworm")) add(t[1]);
      }
    }
  }
  return [...hosts].sort();
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(1000);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
    s.once("timeout", () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function startProxy(state: RunState): Promise<void> {
  const hosts = debianRegistryHosts();
  if (hosts.length === 0) throw new Error("no Debian bookworm apt source found in /etc/apt/sources.list*");
  const filter = path.join(state.runDir, "tinyproxy.filter");
  fs.writeFileSync(filter, hosts.map((h) => `^${h.replace(/[.]/g, "\\.")}$`).join("\n") + "\n");
  const conf = path.join(state.runDir, "tinyproxy.conf");
  fs.writeFileSync(
    conf,
    [
      "User nobody",
      "Group nogroup",
      `Port ${PROXY_PORT}`,
      `Listen ${BRIDGE_ADDRESS}`,
      "Timeout 600",
      "MaxClients 64",
      "LogLevel Connect",
      `Allow ${SUBNET_PREFIX}.0/24`,
      `Filter "${filter}"`,
      "FilterType ere",
      "FilterDefaultDeny Yes",
      "ConnectPort 443",
      "DisableViaHeader Yes",
      "",
    ].join("\n"),
  );
  if (await canConnect(BRIDGE_ADDRESS, PROXY_PORT)) {
    throw new Error(`${BRIDGE_ADDRESS}:${PROXY_PORT} is already taken (a proxy not started by this testbed?)`);
  }
  const logFd = fs.openSync(path.join(state.runDir, "tinyproxy.log"), "a");
  // -d: stay in the foreground, so the PID we hold is tinyproxy itself.
  const child = spawn("tinyproxy", ["-d", "-c", conf], { detached: true, stdio: ["ignore", logFd, logFd] });
  fs.closeSync(logFd);
  const pid = await spawned(child);
  state.proxy = procRef(pid);
  saveState(state);
  child.unref();
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(BRIDGE_ADDRESS, PROXY_PORT))) {
    if (!alive(state.proxy) || Date.now() > deadline) {
      throw new Error(`tinyproxy did not start: ${tail(path.join(state.runDir, "tinyproxy.log"))}`);
    }
    await sleep(100);
  }
}

export function spawned(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("spawn", () => {
      if (child.pid === undefined) reject(new Error("spawn gave no pid"));
      else resolve(child.pid);
    });
  });
}

export function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

// ---- host root ----------------------------------------------------------------

const REMOUNT_SCRIPT = `#!/bin/sh
# Testbed only: nspawn mounts cgroup v1 controllers read-only; Docker and
# Slurm's cgroup plugins need them writable.
set -eu
awk '$3 == "cgroup" { print $2, $4 }' /proc/self/mounts | while read -r dir opts; do
  ctrls=$(echo "$opts" | tr ',' '\\n' | grep -E '^(cpuset|cpu|cpuacct|blkio|memory|devices|freezer|pids|net_cls|net_prio|perf_event|hugetlb|rdma|misc)$' | paste -sd, -) || true
  [ -n "$ctrls" ] || continue
  umount -l "$dir"
  mount -t cgroup -o "$ctrls" cgroup "$dir"
done
`;

const REMOUNT_UNIT = `[Unit]
Description=Testbed only: remount cgroup v1 controllers writable
DefaultDependencies=no
Before=sysinit.target docker.service containerd.service slurmd.service slurmctld.service
ConditionVirtualization=container

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/testbed-cgroup-remount

[Install]
WantedBy=sysinit.target
`;

// nspawn mounts its own /dev, so the nodes are made at boot from inside.
export function fakeGpuUnit(files: string[]): string {
  const cmds = files.map((f, i) => `ExecStart=/bin/sh -c 'test -e ${f} || mknod -m 0666 ${f} c ${FAKE_GPU_MAJOR} ${i}'`);
  return `[Unit]
Description=Testbed only: fake GPU device nodes
DefaultDependencies=no
Before=sysinit.target slurmd.service

[Service]
Type=oneshot
RemainAfterExit=yes
${cmds.join("\n")}

[Install]
WantedBy=sysinit.target
`;
}

export function writeFile(root: string, rel: string, content: string, mode = 0o644): void {
  const f = path.join(root, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.rmSync(f, { force: true });
  fs.writeFileSync(f, content, { mode });
  fs.chmodSync(f, mode);
}

function enableUnit(root: string, unit: string, content: string): void {
  writeFile(root, `etc/systemd/system/${unit}`, content);
  const wants = path.join(root, "etc/systemd/system/sysinit.target.wants");
  fs.mkdirSync(wants, { recursive: true });
  fs.rmSync(path.join(wants, unit), { force: true });
  fs.symlinkSync(`/etc/systemd/system/${unit}`, path.join(wants, unit));
}

async function prepareRoot(
  root: string,
  name: string,
  etcHosts: string,
  publicKey: string,
  fakeGpuFiles: string[],
  extra: { sshPort?: number; admins?: TestAdmin[] } = {},
): Promise<string> {
  writeFile(root, "etc/hostname", `${name}\n`);
  writeFile(root, "etc/hosts", etcHosts);
  writeFile(root, "etc/machine-id", `${randomBytes(16).toString("hex")}\n`, 0o444);
  for (const f of fs.readdirSync(path.join(root, "etc/ssh"))) {
    if (f.startsWith("ssh_host_")) fs.rmSync(path.join(root, "etc/ssh", f));
  }
  await must("ssh-keygen", ["-A", "-f", root]);
  const sshDir = path.join(root, "root/.ssh");
  fs.mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(sshDir, 0o700);
  writeFile(root, "root/.ssh/authorized_keys", publicKey, 0o600);
  if (extra.sshPort !== undefined && extra.sshPort !== 22) writeFile(root, "etc/ssh/sshd_config.d/testbed-port.conf", `Port ${extra.sshPort}\n`);
  for (const a of extra.admins ?? []) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(a.user)) throw new Error(`bad admin user name ${JSON.stringify(a.user)}`);
    // In the host's root, before boot; '*': no password to log in with, but not locked.
    await must("chroot", [root, "useradd", "-m", "-s", "/bin/bash", "-p", "*", a.user]);
    await must("chroot", [root, "install", "-d", "-m", "0700", "-o", a.user, "-g", a.user, `/home/${a.user}/.ssh`]);
    writeFile(root, `home/${a.user}/.ssh/authorized_keys`, publicKey, 0o600);
    await must("chroot", [root, "chown", `${a.user}:${a.user}`, `/home/${a.user}/.ssh/authorized_keys`]);
    if (a.sudo === "password") {
      await must("chroot", [root, "sh", "-c", `echo '${a.user}:testbed-${randomBytes(6).toString("hex")}' | chpasswd`]);
    }
    writeFile(root, `etc/sudoers.d/testbed-${a.user}`, `${a.user} ALL=(ALL) ${a.sudo === "nopasswd" ? "NOPASSWD: " : ""}ALL\n`, 0o440);
  }
  writeFile(root, "usr/local/sbin/testbed-cgroup-remount", REMOUNT_SCRIPT, 0o755);
  enableUnit(root, "testbed-cgroup-remount.service", REMOUNT_UNIT);
  if (fakeGpuFiles.length > 0) enableUnit(root, "testbed-fakegpu.service", fakeGpuUnit(fakeGpuFiles));
  const pub = fs.readFileSync(path.join(root, "etc/ssh/ssh_host_ed25519_key.pub"), "utf8").trim().split(/\s+/);
  if (pub[0] !== "ssh-ed25519" || !pub[1]) throw new Error(`bad host key in ${root}`);
  return `${pub[0]} ${pub[1]}`;
}

// ---- ssh ------------------------------------------------------------------

function sshArgs(keyPath: string, knownHosts: string, host: { address: string; port: number; user: string }): string[] {
  return [
    "-F", "/dev/null",
    "-i", keyPath,
    "-p", String(host.port),
    "-o", "IdentitiesOnly=yes",
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${knownHosts}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "HostKeyAlgorithms=ssh-ed25519",
    "-o", "ConnectTimeout=5",
    "-o", "ServerAliveInterval=5",
    "-o", "ServerAliveCountMax=6",
    "-o", "LogLevel=ERROR",
    `${host.user}@${host.address}`,
  ];
}

function runSsh(args: string[], command: string, opts: SshOptions = {}): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", [...args, "--", command], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timeoutMs = opts.timeoutMs ?? 300_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`ssh ${args[args.length - 1]} timed out after ${timeoutMs} ms: ${command}\n${stderr}`));
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code, sig) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code: code ?? (sig ? 128 : 1) });
    });
    child.stdin.on("error", () => undefined); // remote may exit before reading stdin
    child.stdin.end(opts.stdin ?? "");
  });
}

// ---- teardown ---------------------------------------------------------------

async function stopContainer(h: HostState): Promise<void> {
  if (alive(h.nspawn)) {
    // nspawn turns SIGTERM into an orderly shutdown of the container's systemd.
    signal(h.nspawn, "SIGTERM");
    if (!(await waitGone(h.nspawn, 30_000))) {
      for (const c of childrenOf(h.nspawn.pid)) signal(procRefOrUndef(c), "SIGKILL");
      signal(h.leader, "SIGKILL");
      signal(h.nspawn, "SIGKILL");
      await waitGone(h.nspawn, 10_000);
    }
  }
  // Killing the PID-namespace init takes the whole container with it.
  if (alive(h.leader)) {
    signal(h.leader, "SIGKILL");
    await waitGone(h.leader, 10_000);
  }
}

function procRefOrUndef(pid: number): ProcRef | undefined {
  const start = procStart(pid);
  return start === undefined ? undefined : { pid, start };
}

function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1])
    .filter((m) => m !== undefined && (m === dir || m.startsWith(prefix)))
    .map((m) => m.replace(/\\040/g, " "))
    .sort((a, b) => b.length - a.length);
}

async function unmountAll(dir: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const ms = mountsUnder(dir);
    if (ms.length === 0) return;
    for (const m of ms) {
      if ((await exec("umount", [m])).code !== 0) await exec("umount", ["-l", m]);
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`could not unmount ${left.join(", ")}`);
}

/** Pulls the plug on a VM host (its disk is a throw-away overlay): qemu exits on SIGTERM. */
export async function stopVm(h: HostState): Promise<void> {
  const q = h.vm?.qemu;
  if (!alive(q)) return;
  signal(q, "SIGTERM");
  if (!(await waitGone(q, 10_000))) {
    signal(q, "SIGKILL");
    await waitGone(q, 10_000);
  }
}

/** Stops and removes everything the run recorded; keeps the state file when something is left. */
export async function teardown(state: RunState): Promise<void> {
  const errors: string[] = [];
  await Promise.all(state.hosts.map((h) => (h.vm ? stopVm(h) : stopContainer(h)).catch((e) => errors.push(String(e)))));
  for (const h of state.hosts) {
    if (alive(h.nspawn) || alive(h.leader)) errors.push(`container ${h.name} still running`);
    if (alive(h.vm?.qemu)) errors.push(`VM ${h.name} (qemu ${h.vm!.qemu!.pid}) still running`);
  }
  if (errors.length === 0) {
    try {
      await unmountAll(state.runDir);
    } catch (e) {
      errors.push(String(e));
    }
  }
  const netns = await listNetns();
  for (const h of state.hosts) {
    if (h.vm) {
      if (!alive(h.vm.qemu) && (await linkExists(h.vm.tap))) await exec("ip", ["link", "delete", h.vm.tap]);
      continue;
    }
    if (netns.includes(h.netns)) {
      const r = await exec("ip", ["netns", "delete", h.netns]);
      if (r.code !== 0) errors.push(`ip netns delete ${h.netns}: ${r.stderr.trim()}`);
    }
    if (await linkExists(h.vethHost)) await exec("ip", ["link", "delete", h.vethHost]);
  }
  if (alive(state.proxy)) {
    signal(state.proxy, "SIGTERM");
    if (!(await waitGone(state.proxy, 5_000))) signal(state.proxy, "SIGKILL");
  }
  if (await linkExists(state.bridge)) await exec("ip", ["link", "delete", state.bridge]);
  if (errors.length > 0) {
    // Keep the state file so a later cleanupStale() can retry.
    throw new Error(`testbed ${state.runId} teardown incomplete:\n${errors.join("\n")}`);
  }
  // Never rm -rf through a mount into the cached base.
  if (mountsUnder(state.runDir).length === 0) fs.rmSync(state.runDir, { recursive: true, force: true });
  fs.rmSync(stateFile(state.runId), { force: true });
}

/** Removes what crashed earlier runs left behind. Refuses while another live process owns a run. */
export async function cleanupStale(log: (m: string) => void = () => undefined): Promise<void> {
  if (!fs.existsSync(STATE_ROOT)) return;
  for (const f of fs.readdirSync(STATE_ROOT)) {
    if (!/^run-.*\.json$/.test(f)) continue;
    let state: RunState;
    try {
      state = JSON.parse(fs.readFileSync(path.join(STATE_ROOT, f), "utf8")) as RunState;
    } catch {
      fs.rmSync(path.join(STATE_ROOT, f), { force: true });
      continue;
    }
    if (state.owner.pid !== process.pid && alive(state.owner)) {
      throw new Error(`testbed run ${state.runId} is still owned by live process ${state.owner.pid}`);
    }
    log(`cleaning up stale testbed run ${state.runId}`);
    await teardown(state);
  }
  // Leftovers without a state file (crash between mkdir and first save).
  for (const f of fs.readdirSync(STATE_ROOT)) {
    const dir = path.join(STATE_ROOT, f);
    if (f.endsWith(".json.tmp")) fs.rmSync(dir, { force: true });
    if (!fs.statSync(dir).isDirectory()) continue;
    await unmountAll(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const ns of await listNetns()) {
    if (ns.startsWith(NETNS_PREFIX)) await exec("ip", ["netns", "delete", ns]);
  }
  const links = await exec("ip", ["-o", "link", "show"]);
  for (const m of links.stdout.matchAll(new RegExp(`^\\d+: (${VETH_PREFIX}\\d+c?|${TAP_PREFIX}\\d+)[@:]`, "gm"))) {
    await exec("ip", ["link", "delete", m[1]]);
  }
}

// ---- boot -----------------------------------------------------------------

export async function prepareHostDeps(log: (m: string) => void, extra: string[] = []): Promise<void> {
  for (const script of ["install-deps.sh", "build-rootfs.sh", ...extra]) {
    const t0 = Date.now();
    const r = await exec("bash", [path.join(SCRIPTS_DIR, script)], {
      timeoutMs: 900_000,
      env: { ...process.env, AIHPC_TESTBED_CACHE: ROOTFS_CACHE, AIHPC_TESTBED_PROXY_URL: PROXY_URL },
    });
    if (r.code !== 0) throw new Error(`${script} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    log(`${script}: ${r.stdout.trim().split("\n").pop() ?? ""} (${Date.now() - t0} ms)`);
  }
}

/** Waits for `systemctl is-system-running` (or sshd alone, withoutSystemd); `running` is false once the host's process exited. */
export async function waitBooted(
  host: TestHost,
  running: () => string | undefined,
  ssh: (cmd: string, timeoutMs: number) => Promise<SshResult>,
  deadline: number,
  withoutSystemd = false,
): Promise<void> {
  const fail = (why: string) =>
    new Error(`host ${host.name} (${host.address}) did not boot: ${why}\n--- console log tail ---\n${tail(host.logFile)}`);
  let last = "";
  for (;;) {
    const exited = running();
    if (exited) throw fail(exited);
    if (Date.now() > deadline) throw fail(`timeout; last: ${last}`);
    try {
      if (withoutSystemd) {
        const r = await ssh("test ! -d /run/systemd/system && echo up", 10_000);
        last = r.stdout.trim() || r.stderr.trim();
        if (r.stdout.trim() === "up") {
          host.bootState = "no-systemd";
          return;
        }
        await sleep(500);
        continue;
      }
      const r = await ssh("systemctl is-system-running", 10_000);
      const st = r.stdout.trim();
      last = st || r.stderr.trim();
      if (st === "running" || st === "degraded") {
        host.bootState = st;
        if (st === "degraded") {
          const f = await ssh("systemctl list-units --failed --plain --no-legend", 10_000);
          host.failedUnits = f.stdout
            .split("\n")
            .map((l) => l.trim().split(/\s+/)[0])
            .filter(Boolean);
          // On a loaded 2-core machine a boot unit now and then fails once
          // (seen: systemd-user-sessions, e2scrub_reap). Log why, start it
          // again, and report only the units that fail a second time.
          const still: string[] = [];
          for (const u of host.failedUnits) {
            const j = await ssh(`journalctl -b -u ${u} --no-pager -n 30 -o short-precise`, 10_000);
            fs.appendFileSync(host.logFile, `\n--- failed unit ${u} ---\n${j.stdout}${j.stderr}\n`);
            const again = await ssh(`systemctl reset-failed ${u} && systemctl start ${u}`, 60_000);
            if (again.code !== 0) still.push(u);
            else host.retriedUnits.push(u);
          }
          host.failedUnits = still;
          if (still.length === 0) host.bootState = (await ssh("systemctl is-system-running", 10_000)).stdout.trim() || st;
        }
        return;
      }
    } catch (e) {
      last = String(e);
    }
    await sleep(500);
  }
}

/** A new run: its directory and state file (call cleanupStale() first). */
export function openRun(): RunState {
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const runDir = path.join(STATE_ROOT, runId);
  fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const state: RunState = { runId, runDir, owner: procRef(process.pid), bridge: BRIDGE, hosts: [] };
  saveState(state);
  return state;
}

export interface RunKeys {
  privateKeyPath: string;
  privateKey: string;
  publicKey: string;
  knownHostsFile: string;
}

/** The run's SSH key (0600 in the run directory) and where its known_hosts goes. */
export async function runKeys(state: RunState): Promise<RunKeys> {
  const privateKeyPath = path.join(state.runDir, "id_ed25519");
  await must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `aihpc-testbed-${state.runId}`, "-f", privateKeyPath]);
  fs.chmodSync(privateKeyPath, 0o600);
  return {
    privateKeyPath,
    privateKey: fs.readFileSync(privateKeyPath, "utf8"),
    publicKey: fs.readFileSync(`${privateKeyPath}.pub`, "utf8"),
    knownHostsFile: path.join(state.runDir, "known_hosts"),
  };
}

/** The bridge and the apt proxy on it. */
export async function startNetwork(state: RunState): Promise<void> {
  await ensureBridge();
  await startProxy(state);
}

export function writeKnownHosts(file: string, hosts: TestHost[]): void {
  fs.writeFileSync(
    file,
    hosts.map((t) => (t.port === 22 ? `${t.name},${t.address}` : `[${t.name}]:${t.port},[${t.address}]:${t.port}`) + ` ${t.hostKey}\n`).join(""),
    { mode: 0o600 },
  );
}

export function testbedHandle(state: RunState, hosts: TestHost[], keys: RunKeys): Testbed {
  const { privateKeyPath, knownHostsFile } = keys;
  const tb: Testbed = {
    runId: state.runId,
    runDir: state.runDir,
    hosts,
    privateKey: keys.privateKey,
    privateKeyPath,
    knownHostsFile,
    proxyUrl: PROXY_URL,
    sshArgs: (host, o) => sshArgs(privateKeyPath, o?.knownHostsFile ?? knownHostsFile, host),
    ssh: (host, command, o) => runSsh(sshArgs(privateKeyPath, o?.knownHostsFile ?? knownHostsFile, host), command, o),
    async sshOk(host, command, o) {
      const r = await tb.ssh(host, command, o);
      if (r.code !== 0) throw new Error(`[${host.name}] exit ${r.code}: ${command}\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    },
    addHost: (o) => addContainerHost(state, hosts, keys, o),
    removeHost: (name) => removeContainerHost(state, name),
    destroy: async () => {
      await teardown(state);
    },
  };
  return tb;
}

// Extra hosts serialise their set-up (addresses and veth names are picked from the state).
let addQueue: Promise<unknown> = Promise.resolve();

async function addContainerHost(state: RunState, runHosts: TestHost[], keys: RunKeys, o: ExtraHostOptions): Promise<TestHost> {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(o.name)) throw new Error(`bad host name ${JSON.stringify(o.name)}`);
  const setUp = addQueue.then(async () => {
    if (state.hosts.some((h) => h.name === o.name)) throw new Error(`host ${o.name} exists in run ${state.runId}`);
    const usedVeth = new Set(state.hosts.map((h) => h.vethHost));
    let v = 0;
    while (usedVeth.has(`${VETH_PREFIX}${v}`)) v++;
    const usedAddr = new Set([...runHosts.map((h) => h.address), ...Object.values(extraAddresses.get(state.runId) ?? {})]);
    let octet = FIRST_HOST_OCTET + runHosts.length;
    while (usedAddr.has(`${SUBNET_PREFIX}.${octet}`)) octet++;
    if (octet >= FIRST_HOST_OCTET + MAX_CONTAINER_HOSTS) throw new Error("no free container address left on the testbed bridge");
    const address = `${SUBNET_PREFIX}.${octet}`;
    const h: HostState = { name: o.name, netns: `${NETNS_PREFIX}${o.name}`.slice(0, 60), vethHost: `${VETH_PREFIX}${v}`, mountpoint: path.join(state.runDir, o.name, "root") };
    // Recorded before it exists: a crash from here on is cleaned up by cleanupStale().
    state.hosts.push(h);
    saveState(state);
    extraAddresses.set(state.runId, { ...(extraAddresses.get(state.runId) ?? {}), [o.name]: address });
    const dir = path.join(state.runDir, o.name);
    for (const d of ["upper", "work", "root"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
    await must("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${ROOTFS_CACHE},upperdir=${dir}/upper,workdir=${dir}/work`, h.mountpoint]);
    const etcHosts =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
      [...runHosts.map((t) => `${t.address}\t${t.name}`), `${address}\t${o.name}`, ...(o.etcHosts ?? [])].join("\n") +
      "\n";
    const fakeGpuFiles = o.fakeGpuFiles ?? [];
    const hostKey = await prepareRoot(h.mountpoint, o.name, etcHosts, keys.publicKey, fakeGpuFiles);
    await o.prepare?.(h.mountpoint);
    await setupHostNet(h, address);
    const t: TestHost = {
      name: o.name, address, port: 22, user: "root", admins: [], hostKey, rootDir: h.mountpoint, pid: 0, netns: h.netns,
      logFile: path.join(dir, "nspawn.log"), fakeGpuFiles, bootState: "", failedUnits: [], retriedUnits: [],
    };
    fs.appendFileSync(keys.knownHostsFile, `${o.name},${address} ${hostKey}\n`);
    return { h, t };
  });
  addQueue = setUp.catch(() => undefined);
  const { h, t } = await setUp;
  t.pid = await startNspawn(h, t, false, o.ownBootTime, o.tun);
  saveState(state);
  const deadline = Date.now() + 30_000;
  while (!h.leader && Date.now() < deadline && alive(h.nspawn)) {
    const c = childrenOf(h.nspawn!.pid)[0];
    if (c !== undefined) h.leader = procRefOrUndef(c);
    else await sleep(50);
  }
  saveState(state);
  if (!h.leader) throw new Error(`host ${o.name} did not start: ${tail(t.logFile, 20)}`);
  return t;
}

/** Addresses of hosts added with addHost(), by run and name. */
const extraAddresses = new Map<string, Record<string, string>>();

async function removeContainerHost(state: RunState, name: string): Promise<void> {
  const h = state.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name} in run ${state.runId}`);
  await stopContainer(h);
  if (alive(h.nspawn) || alive(h.leader)) throw new Error(`container ${name} still running`);
  const dir = path.join(state.runDir, name);
  await unmountAll(dir);
  if ((await listNetns()).includes(h.netns)) await must("ip", ["netns", "delete", h.netns]);
  if (await linkExists(h.vethHost)) await exec("ip", ["link", "delete", h.vethHost]);
  if (mountsUnder(dir).length === 0) fs.rmSync(dir, { recursive: true, force: true });
  state.hosts = state.hosts.filter((x) => x !== h);
  saveState(state);
  const addrs = { ...(extraAddresses.get(state.runId) ?? {}) };
  delete addrs[name];
  extraAddresses.set(state.runId, addrs);
}

/** Start systemd-nspawn for a prepared host; returns its PID (recorded in the state by the caller). */
function startNspawn(h: HostState, t: TestHost, noSystemd: boolean, ownBootTime = false, tun = false): Promise<number> {
  const logFd = fs.openSync(t.logFile, "a");
  // unshare execs nspawn (same PID, recorded as the host's), whose children enter the new time namespace.
  // Whole seconds down: the new clock starts between 0 and 1, never before this spawn (Slurm compares boot times in seconds).
  const uptime = Math.floor(Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]));
  const timens = ownBootTime ? ["unshare", "--time", `--boottime=${-uptime}`, "--"] : [];
  const child = spawn(
    timens[0] ?? "systemd-nspawn",
    [
      ...timens.slice(1),
      ...(ownBootTime ? ["systemd-nspawn"] : []),
      "-D", h.mountpoint,
      ...(noSystemd ? ["--as-pid2"] : ["-b"]),
      "--register=no",
      "--keep-unit",
      `--network-namespace-path=/run/netns/${h.netns}`,
      `--machine=${h.name}`,
      "--capability=all",
      "--system-call-filter=@keyring bpf",
      "--property=DeviceAllow=char-* rwm",
      // The TUN device for userspace WireGuard (its character device is already allowed above).
      ...(tun ? ["--bind=/dev/net/tun"] : []),
      "--resolv-conf=off",
      "--console=read-only",
      ...(noSystemd ? ["/bin/sh", "-c", "mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e"] : []),
    ],
    {
      detached: true,
      stdio: ["ignore", logFd, logFd],
      // Writable /proc/sys etc.: Docker's daemon needs it inside.
      env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: "1" },
    },
  );
  fs.closeSync(logFd);
  return spawned(child).then((pid) => {
    h.nspawn = procRef(pid);
    child.unref();
    return pid;
  });
}

export async function bootTestbed(opts: BootOptions): Promise<Testbed> {
  const log = opts.log ?? (() => undefined);
  if (process.getuid?.() !== 0) throw new Error("the testbed needs root");
  const names = opts.names;
  if (names.length === 0 || names.length > MAX_CONTAINER_HOSTS) throw new Error(`names: 1..${MAX_CONTAINER_HOSTS} hosts`);
  for (const n of names) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(n)) throw new Error(`bad host name ${JSON.stringify(n)}`);
  }
  if (new Set(names).size !== names.length) throw new Error("duplicate host names");
  const noSystemd = new Set(opts.withoutSystemd ?? []);
  for (const n of Object.keys(opts.hostOptions ?? {})) if (!names.includes(n)) throw new Error(`hostOptions: '${n}' is not in names`);
  for (const n of noSystemd) if (!names.includes(n)) throw new Error(`withoutSystemd: '${n}' is not in names`);
  const gpuCount = opts.fakeGpus === true ? 1 : typeof opts.fakeGpus === "number" ? opts.fakeGpus : 0;

  // Stale overlays first: build-rootfs.sh refuses to replace a base still mounted.
  await cleanupStale(log);
  if (opts.prepare !== false) await prepareHostDeps(log);

  const state = openRun();
  const runDir = state.runDir;

  try {
    const keys = await runKeys(state);
    const { publicKey, knownHostsFile } = keys;

    const addresses = names.map((_, i) => `${SUBNET_PREFIX}.${FIRST_HOST_OCTET + i}`);
    const etcHosts =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
      names.map((n, i) => `${addresses[i]}\t${n}\n`).join("");
    const fakeGpuFiles = Array.from({ length: gpuCount }, (_, i) => `/dev/fakegpu${i}`);

    state.hosts = names.map((name, i) => ({
      name,
      netns: `${NETNS_PREFIX}${name}`,
      vethHost: `${VETH_PREFIX}${i}`,
      mountpoint: path.join(runDir, name, "root"),
    }));
    saveState(state);

    await startNetwork(state);

    const hosts: TestHost[] = [];
    for (const [i, h] of state.hosts.entries()) {
      const dir = path.join(runDir, h.name);
      for (const d of ["upper", "work", "root"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
      await must("mount", [
        "-t", "overlay", "overlay",
        "-o", `lowerdir=${ROOTFS_CACHE},upperdir=${dir}/upper,workdir=${dir}/work`,
        h.mountpoint,
      ]);
      const extra = opts.hostOptions?.[h.name] ?? {};
      const hostKey = await prepareRoot(h.mountpoint, h.name, etcHosts, publicKey, fakeGpuFiles, extra);
      await setupHostNet(h, addresses[i]);
      hosts.push({
        name: h.name,
        address: addresses[i],
        port: extra.sshPort ?? 22,
        user: "root",
        admins: extra.admins ?? [],
        hostKey,
        rootDir: h.mountpoint,
        pid: 0,
        netns: h.netns,
        logFile: path.join(dir, "nspawn.log"),
        fakeGpuFiles,
        bootState: "",
        failedUnits: [],
        retriedUnits: [],
      });
    }
    writeKnownHosts(knownHostsFile, hosts);

    for (const [i, h] of state.hosts.entries()) {
      const t = hosts[i];
      t.pid = await startNspawn(h, t, noSystemd.has(h.name), false, opts.hostOptions?.[h.name]?.tun === true);
      saveState(state);
    }

    // The container's init, so a crash cleanup can kill it even if nspawn is gone.
    const deadline = Date.now() + (opts.bootTimeoutMs ?? 120_000);
    for (const h of state.hosts) {
      while (!h.leader && Date.now() < deadline && alive(h.nspawn)) {
        const c = childrenOf(h.nspawn!.pid)[0];
        if (c !== undefined) h.leader = procRefOrUndef(c);
        else await sleep(50);
      }
    }
    saveState(state);

    const tb = testbedHandle(state, hosts, keys);

    await Promise.all(
      hosts.map((t, i) =>
        waitBooted(t, () => (alive(state.hosts[i].nspawn) ? undefined : "systemd-nspawn exited"), (cmd, ms) => tb.ssh(t, cmd, { timeoutMs: ms }), deadline, noSystemd.has(t.name)),
      ),
    );
    for (const t of hosts) {
      log(`${t.name} ${t.address}: ${t.bootState}${t.failedUnits.length ? ` (failed: ${t.failedUnits.join(", ")})` : ""}${t.retriedUnits.length ? ` (started on a second try: ${t.retriedUnits.join(", ")})` : ""}`);
    }
    return tb;
  } catch (e) {
    try {
      await teardown(state);
    } catch (e2) {
      log(String(e2));
    }
    throw e;
  }
}
