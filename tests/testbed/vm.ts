// VM test hosts: Debian 12 with its own kernel (cgroup v2, kernel modules,
// real reboots), booted with qemu from the image scripts/build-vm-image.sh
// builds (BIOS, GRUB and the guest's own kernel and initramfs), on the same
// bridge, proxy and run state as the container hosts (hosts.ts), so the stack
// config helpers, the executor and cleanupStale() work on them unchanged.
// Each VM boots a qcow2 overlay of the cached image and gets its identity
// (hostname, SSH host keys, root's key, static address) from a seed disk: a
// tar archive the image's first-boot unit unpacks.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
  alive,
  BRIDGE,
  cleanupStale,
  exec,
  fakeGpuUnit,
  HostState,
  linkExists,
  must,
  prepareHostDeps,
  procRef,
  ROOTFS_CACHE,
  RunState,
  openRun,
  runKeys,
  saveState,
  signal,
  sleep,
  spawned,
  startNetwork,
  SUBNET_PREFIX,
  tail,
  teardown,
  TAP_PREFIX,
  Testbed,
  testbedHandle,
  TestHost,
  waitBooted,
  waitGone,
  writeKnownHosts,
} from "./hosts";

export const VM_CACHE = process.env.AIHPC_TESTBED_VM_CACHE ?? "/var/cache/aihpc-testbed/vm-bookworm";
/** VMs take .201 up to .250 of the testbed subnet (containers .11 up to .200). */
const FIRST_VM_OCTET = 201;
const MAX_VMS = 50;

export type Accel = "kvm" | "tcg";

export interface VmHost extends TestHost {
  /** Serial console log of the VM (all its boots). */
  logFile: string;
  /** The VM's copy-on-write disk (backing file: the cached image). */
  disk: string;
}

export interface VmBootOptions {
  names: string[];
  /** true for one fake GPU per VM, or a count. */
  fakeGpus?: boolean | number;
  /** vCPUs per VM (default 2). */
  cpus?: number;
  /** Memory per VM in MiB (default 1536). */
  memoryMb?: number;
  /** Default: AIHPC_TESTBED_ACCEL (kvm|tcg), else a KVM probe, else tcg. */
  accel?: Accel;
  bootTimeoutMs?: number;
  /** Run install-deps.sh, build-rootfs.sh and build-vm-image.sh first (default true). */
  prepare?: boolean;
  log?: (msg: string) => void;
}

export interface VmTestbed extends Testbed {
  hosts: VmHost[];
  accel: Accel;
  /** Milliseconds from qemu's start to `systemctl is-system-running`, per VM. */
  bootMs: Record<string, number>;
  /** /proc/sys/kernel/random/boot_id */
  bootId(host: VmHost): Promise<string>;
  /** `systemctl reboot` inside, then wait for a new boot id and a booted system; returns the ms it took. */
  reboot(host: VmHost, timeoutMs?: number): Promise<number>;
  /** `systemctl poweroff` inside and wait for qemu to exit. */
  powerOff(host: VmHost, timeoutMs?: number): Promise<void>;
  /** Start a powered-off VM again (same disk) and wait until it has booted; returns the ms it took. */
  start(host: VmHost, timeoutMs?: number): Promise<number>;
}

const VM_SCRIPT = path.join(__dirname, "scripts", "build-vm-image.sh");

async function probeKvm(log: (m: string) => void, dir: string): Promise<boolean> {
  if (!fs.existsSync("/dev/kvm")) return false;
  // The image's kernel without a root file system: it panics at once and qemu
  // exits (-no-reboot). A working KVM gets there in a second or two; a broken
  // one (seen here: a guest stuck in the firmware) never does.
  const out = path.join(dir, "kvm-probe.log");
  const child = spawn(
    "qemu-system-x86_64",
    ["-accel", "kvm", "-m", "256", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
      "-serial", `file:${out}`, "-kernel", path.join(VM_CACHE, "vmlinuz"), "-append", "console=ttyS0 panic=-1"],
    { stdio: "ignore" },
  );
  const t0 = Date.now();
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const ok = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
  if (!ok) {
    child.kill("SIGKILL");
    await exited;
  }
  const text = fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "";
  const works = ok && /Kernel panic/.test(text);
  log(`KVM probe: ${works ? `kernel reached its panic in ${Date.now() - t0} ms under KVM` : `no kernel panic within 20 s under KVM (${ok ? "qemu exited" : "hung"}); using TCG`}`);
  return works;
}

export async function detectAccel(log: (m: string) => void, dir: string): Promise<Accel> {
  const env = process.env.AIHPC_TESTBED_ACCEL;
  if (env === "kvm" || env === "tcg") return env;
  if (env) throw new Error(`AIHPC_TESTBED_ACCEL: expected kvm or tcg, got ${JSON.stringify(env)}`);
  return (await probeKvm(log, dir)) ? "kvm" : "tcg";
}

/** The seed disk: a tar archive the image's testbed-seed unit unpacks into / on the first boot. */
async function makeSeed(dir: string, name: string, address: string, etcHosts: string, publicKey: string, fakeGpuFiles: string[]): Promise<string> {
  const root = path.join(dir, "seed");
  const put = (rel: string, content: string, mode = 0o644) => {
    const f = path.join(root, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content, { mode });
    fs.chmodSync(f, mode);
  };
  put("etc/hostname", `${name}\n`);
  put("etc/hosts", etcHosts);
  put("root/.ssh/authorized_keys", publicKey, 0o600);
  fs.chmodSync(path.join(root, "root/.ssh"), 0o700);
  put("etc/systemd/network/10-testbed.network", `[Match]\nName=en*\n\n[Network]\nAddress=${address}/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`);
  if (fakeGpuFiles.length > 0) {
    put("etc/systemd/system/testbed-fakegpu.service", fakeGpuUnit(fakeGpuFiles));
    fs.mkdirSync(path.join(root, "etc/systemd/system/sysinit.target.wants"), { recursive: true });
    fs.symlinkSync("/etc/systemd/system/testbed-fakegpu.service", path.join(root, "etc/systemd/system/sysinit.target.wants/testbed-fakegpu.service"));
  }
  fs.mkdirSync(path.join(root, "etc/ssh"), { recursive: true });
  for (const t of ["ed25519", "rsa", "ecdsa"]) {
    await must("ssh-keygen", ["-q", "-t", t, "-N", "", "-C", `root@${name}`, "-f", path.join(root, `etc/ssh/ssh_host_${t}_key`)]);
  }
  const pub = fs.readFileSync(path.join(root, "etc/ssh/ssh_host_ed25519_key.pub"), "utf8").trim().split(/\s+/);
  const seed = path.join(dir, "seed.tar");
  await must("tar", ["-C", root, "--owner=0", "--group=0", "-cf", seed, "."]);
  fs.rmSync(root, { recursive: true, force: true });
  return `${pub[0]} ${pub[1]}`;
}

function mac(i: number): string {
  return `52:54:00:a1:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
}

export async function bootVms(opts: VmBootOptions): Promise<VmTestbed> {
  const log = opts.log ?? (() => undefined);
  if (process.getuid?.() !== 0) throw new Error("the testbed needs root");
  const names = opts.names;
  if (names.length === 0 || names.length > MAX_VMS) throw new Error(`names: 1..${MAX_VMS} VMs`);
  for (const n of names) if (!/^[a-z][a-z0-9-]{0,30}$/.test(n)) throw new Error(`bad host name ${JSON.stringify(n)}`);
  if (new Set(names).size !== names.length) throw new Error("duplicate host names");
  const cpus = opts.cpus ?? 2;
  const memoryMb = opts.memoryMb ?? 1536;
  const gpuCount = opts.fakeGpus === true ? 1 : typeof opts.fakeGpus === "number" ? opts.fakeGpus : 0;
  const bootTimeoutMs = opts.bootTimeoutMs ?? 300_000;

  await cleanupStale(log);
  if (opts.prepare !== false) {
    await prepareHostDeps(log, ["build-vm-image.sh"]);
  } else if (!fs.existsSync(path.join(VM_CACHE, "stamp"))) {
    throw new Error(`no VM image at ${VM_CACHE}: run ${VM_SCRIPT} (AIHPC_TESTBED_CACHE=${ROOTFS_CACHE})`);
  }

  const state: RunState = openRun();
  try {
    const keys = await runKeys(state);
    const accel = opts.accel ?? (await detectAccel(log, state.runDir));
    const addresses = names.map((_, i) => `${SUBNET_PREFIX}.${FIRST_VM_OCTET + i}`);
    const etcHosts =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + names.map((n, i) => `${addresses[i]}\t${n}\n`).join("");
    const fakeGpuFiles = Array.from({ length: gpuCount }, (_, i) => `/dev/fakegpu${i}`);
    state.hosts = names.map((name, i): HostState => ({ name, netns: "", vethHost: "", mountpoint: "", vm: { tap: `${TAP_PREFIX}${i}` } }));
    saveState(state);
    await startNetwork(state);

    const hosts: VmHost[] = [];
    const qemuArgs: string[][] = [];
    for (const [i, h] of state.hosts.entries()) {
      const dir = path.join(state.runDir, h.name);
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const disk = path.join(dir, "disk.qcow2");
      await must("qemu-img", ["create", "-q", "-f", "qcow2", "-b", path.join(VM_CACHE, "disk.img"), "-F", "raw", disk]);
      const hostKey = await makeSeed(dir, h.name, addresses[i], etcHosts, keys.publicKey, fakeGpuFiles);
      const tap = h.vm!.tap;
      if (await linkExists(tap)) await exec("ip", ["link", "delete", tap]);
      await must("ip", ["tuntap", "add", "dev", tap, "mode", "tap"]);
      await must("ip", ["link", "set", tap, "master", BRIDGE]);
      await must("ip", ["link", "set", tap, "up"]);
      const logFile = path.join(dir, "console.log");
      qemuArgs.push([
        "-name", h.name,
        "-accel", accel,
        "-smp", String(cpus),
        "-m", String(memoryMb),
        "-nodefaults", "-no-user-config",
        "-display", "none",
        "-serial", `file:${logFile}`,
        // Booted from the disk (SeaBIOS, GRUB, the guest's own /vmlinuz and /initrd.img), like a workstation:
        // an initramfs rebuilt in the guest is what its next boot uses.
        "-drive", `file=${disk},if=none,id=vda,format=qcow2,cache=unsafe`,
        "-device", "virtio-blk-pci,drive=vda,bootindex=0",
        "-drive", `file=${path.join(dir, "seed.tar")},if=none,id=vdb,format=raw,readonly=on`,
        "-device", "virtio-blk-pci,drive=vdb",
        "-netdev", `tap,id=n0,ifname=${tap},script=no,downscript=no`,
        "-device", `virtio-net-pci,netdev=n0,mac=${mac(i)}`,
        "-device", "virtio-rng-pci",
      ]);
      hosts.push({
        name: h.name,
        address: addresses[i],
        port: 22,
        user: "root",
        admins: [],
        hostKey,
        rootDir: "",
        pid: 0,
        netns: "",
        logFile,
        disk,
        fakeGpuFiles,
        bootState: "",
        failedUnits: [],
        retriedUnits: [],
      });
    }
    writeKnownHosts(keys.knownHostsFile, hosts);
    const tb = testbedHandle(state, hosts, keys);

    const startQemu = async (i: number) => {
      const h = state.hosts[i];
      const fd = fs.openSync(path.join(state.runDir, h.name, "qemu.log"), "a");
      const child = spawn("qemu-system-x86_64", qemuArgs[i], { detached: true, stdio: ["ignore", fd, fd] });
      fs.closeSync(fd);
      const pid = await spawned(child);
      h.vm!.qemu = procRef(pid);
      hosts[i].pid = pid;
      saveState(state);
      child.unref();
    };
    const qemuGone = (i: number) => () => {
      if (alive(state.hosts[i].vm?.qemu)) return undefined;
      return `qemu exited: ${tail(path.join(state.runDir, state.hosts[i].name, "qemu.log"), 10)}`;
    };
    const waitUp = (i: number, deadline: number) => {
      const t = hosts[i];
      t.failedUnits = [];
      t.retriedUnits = [];
      return waitBooted(t, qemuGone(i), (cmd, ms) => tb.ssh(t, cmd, { timeoutMs: ms }), deadline);
    };
    const bootMs: Record<string, number> = {};
    const startAndWait = async (i: number, timeoutMs: number) => {
      const t0 = Date.now();
      await startQemu(i);
      await waitUp(i, t0 + timeoutMs);
      return Date.now() - t0;
    };
    const index = (host: VmHost) => {
      const i = hosts.indexOf(host);
      if (i < 0) throw new Error(`${host.name} is not a VM of this testbed`);
      return i;
    };
    const bootId = async (host: VmHost) => (await tb.sshOk(host, "cat /proc/sys/kernel/random/boot_id", { timeoutMs: 30_000 })).trim();

    const vt: VmTestbed = {
      ...tb,
      hosts,
      accel,
      bootMs,
      bootId,
      async reboot(host, timeoutMs = 300_000) {
        const i = index(host);
        const before = await bootId(host);
        const t0 = Date.now();
        // The session may die with the shutdown: its exit status says nothing.
        await tb.ssh(host, "systemctl reboot", { timeoutMs: 30_000 }).catch(() => undefined);
        const deadline = t0 + timeoutMs;
        for (;;) {
          const gone = qemuGone(i)();
          if (gone) throw new Error(`${host.name}: ${gone}`);
          if (Date.now() > deadline) throw new Error(`${host.name} did not come back from the reboot in ${timeoutMs} ms\n${tail(host.logFile)}`);
          const r = await tb.ssh(host, "cat /proc/sys/kernel/random/boot_id", { timeoutMs: 10_000 }).catch(() => undefined);
          if (r && r.code === 0 && r.stdout.trim() && r.stdout.trim() !== before) break;
          await sleep(1000);
        }
        await waitUp(i, deadline);
        return Date.now() - t0;
      },
      async powerOff(host, timeoutMs = 120_000) {
        const q = state.hosts[index(host)].vm!.qemu;
        if (!alive(q)) return;
        await tb.ssh(host, "systemctl poweroff", { timeoutMs: 30_000 }).catch(() => undefined);
        if (!(await waitGone(q, timeoutMs))) {
          signal(q, "SIGKILL");
          throw new Error(`${host.name} did not power off in ${timeoutMs} ms (killed)\n${tail(host.logFile)}`);
        }
      },
      async start(host, timeoutMs = bootTimeoutMs) {
        const i = index(host);
        if (alive(state.hosts[i].vm!.qemu)) throw new Error(`${host.name} is running`);
        return startAndWait(i, timeoutMs);
      },
      destroy: tb.destroy,
    };

    // One at a time under TCG: parallel boots only share the same two cores.
    if (accel === "tcg") {
      for (const i of hosts.keys()) bootMs[hosts[i].name] = await startAndWait(i, bootTimeoutMs);
    } else {
      await Promise.all(hosts.map(async (_, i) => (bootMs[hosts[i].name] = await startAndWait(i, bootTimeoutMs))));
    }
    for (const t of hosts) {
      log(`${t.name} ${t.address} (${accel}): ${t.bootState} in ${bootMs[t.name]} ms${t.failedUnits.length ? ` (failed: ${t.failedUnits.join(", ")})` : ""}${t.retriedUnits.length ? ` (started on a second try: ${t.retriedUnits.join(", ")})` : ""}`);
    }
    return vt;
  } catch (e) {
    try {
      await teardown(state);
    } catch (e2) {
      log(String(e2));
    }
    throw e;
  }
}

