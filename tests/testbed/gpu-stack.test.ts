// Issue 6 on the testbed (no GPU, no route to NVIDIA's or Docker's servers):
// the `local` stack's program applied for real through the executor to one
// booted Debian 12 host, with the GPU stack's parts that need no GPU.
//   - NVIDIA: the driver pin (apt preference) and the nouveau blacklist run for
//     real; apt shows the pin against Debian's non-free driver. The CUDA
//     repository step must fail with a clear message: NVIDIA's server is out of
//     reach here, and the driver, kernel module, reboot and CUDA packages need
//     it (or a GPU and a Debian kernel; nspawn hosts share the build machine's
//     kernel and cannot load modules). Not tested here: DKMS, the reboot.
//   - Docker (Debian's docker.io) with the managed daemon.json: `docker info`
//     shows data root, cgroup driver and log driver; the testbed's cgroup
//     remount unit makes dockerd start (TESTBED.md). No image registry: no
//     `docker run` of a pulled image.
//   - CUDA module files through Debian's lmod, with a stand-in CUDA tree
//     (/usr/local/cuda-12.8/bin/nvcc, a script), since the real toolkit comes
//     from NVIDIA's repository: `module avail` / `module load`.
//   - idempotent re-applies (no command), one setting re-runs one step, teardown.
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { Executor, opsSummary } from "./executor";
import { toCliConfig } from "../helpers/harness";
import { runProgram } from "../helpers/harness";
import { NewResourceArgs } from "../../tools/plan/recorder";
import { newestDebian } from "../../config/debian-version";

jest.setTimeout(1_800_000);
const log = (m: string) => process.stdout.write(`[gpu-stack ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const summary = opsSummary;

interface Opts {
    nvidia?: boolean;
    containers?: boolean;
    logMaxFiles?: number;
}

function config(tb: Testbed, h: TestHost, o: Opts) {
    return toCliConfig(
        {
            workstation: {
                transport: "ssh",
                aptProxy: tb.proxyUrl,
                hosts: [{ name: h.name, address: h.address, port: h.port, user: h.user, hostKey: h.hostKey, roles: ["controller", "compute"], gpus: { count: o.nvidia ? 1 : 0 } }],
                base: { users: [{ name: "alice", uid: 2001 }] },
                nvidia: { enabled: o.nvidia === true },
                containers: {
                    enabled: o.containers === true,
                    docker: { dataRoot: "/srv/docker", logMaxFiles: o.logMaxFiles ?? 5, cgroupDriver: "systemd" },
                    nvidiaToolkit: { enabled: false },
                },
                mlRuntime: { enabled: false },
                acceptance: { enabled: false },
                slurm: { enabled: false },
                monitoring: { enabled: false },
            },
            sshPrivateKey: tb.privateKey,
        },
        ["sshPrivateKey"],
    );
}

describe("GPU stack on a booted Debian 12 host (issue 6, the parts that need no GPU)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ex: Executor;

    beforeAll(async () => {
        tb = await bootTestbed({ names: ["ws1"], log });
        [ws1] = tb.hosts;
        ex = new Executor({ log: (m) => log(`  ${m}`) });
    });
    afterAll(async () => {
        ex?.dispose();
        await tb?.destroy();
    });
    const apply = async (label: string, o: Opts) => {
        const { config: c, secretKeys } = config(tb, ws1, o);
        const r = await ex.apply(c, secretKeys);
        log(`${label}: ${summary(r.ran)} in ${r.durationMs} ms${r.error ? ` -- failed: ${r.error.message.split("\n")[0]}` : ""}`);
        return r;
    };

    test("Docker from Debian with the managed daemon.json: docker info shows it; research user in the docker group", async () => {
        const r = await apply("containers", { containers: true });
        if (r.error) throw r.error;
        const info = await tb.sshOk(ws1, "docker info --format '{{.DockerRootDir}}|{{.CgroupDriver}}|{{.LoggingDriver}}|{{.ServerVersion}}'");
        const [root, cgroup, logDriver, version] = info.trim().split("|");
        expect({ root, cgroup, logDriver }).toEqual({ root: "/srv/docker", cgroup: "systemd", logDriver: "json-file" });
        expect(version).toMatch(/^20\.10\.24/);
        const daemon = JSON.parse(await tb.sshOk(ws1, "cat /etc/docker/daemon.json"));
        expect(daemon["log-opts"]).toEqual({ "max-size": "50m", "max-file": "5" });
        expect(await tb.sshOk(ws1, "id -nG alice")).toMatch(/\bdocker\b/);
        const pin = await tb.sshOk(ws1, "apt-cache policy docker.io");
        expect(pin).toMatch(/\*\*\* 20\.10\.24\+\S+ 1001/);
        // A container runs with the data root and log driver (an image built locally: no registry here).
        await tb.sshOk(
            ws1,
            "rm -rf /tmp/img && mkdir -p /tmp/img/bin && cp /bin/dash /tmp/img/bin/sh && for l in $(ldd /bin/dash | grep -o '/[^ ]*'); do mkdir -p /tmp/img$(dirname $l) && cp $l /tmp/img$l; done && tar -C /tmp/img -c . | docker import - aihpc-local >/dev/null",
        );
        const hello = await tb.ssh(ws1, "docker run --rm --network none aihpc-local /bin/sh -c 'echo hello-from-container'", { timeoutMs: 120_000 });
        log(`docker run: code ${hello.code} ${hello.stdout.trim()} ${hello.stderr.trim().slice(0, 200)}`);
        expect(hello.stdout).toContain("hello-from-container");
    });

    test("the same config again runs no command; one docker setting re-runs only the docker step, which restarts docker", async () => {
        const same = await apply("no-op", { containers: true });
        if (same.error) throw same.error;
        expect(same.ran.map((c) => c.name)).toEqual([]);
        const started = await tb.sshOk(ws1, "systemctl show docker -p ActiveEnterTimestampMonotonic");
        const r = await apply("logMaxFiles 3", { containers: true, logMaxFiles: 3 });
        if (r.error) throw r.error;
        expect(r.ran.map((c) => `${c.op} ${c.name}`)).toEqual(["update ws-containers-ws1-docker"]);
        expect(r.ran[0].stdout).toMatch(/restarted docker\.service/);
        expect(JSON.parse(await tb.sshOk(ws1, "cat /etc/docker/daemon.json"))["log-opts"]["max-file"]).toBe("3");
        expect(await tb.sshOk(ws1, "systemctl show docker -p ActiveEnterTimestampMonotonic")).not.toBe(started);
    });

    test("NVIDIA: driver pin and nouveau blacklist for real; NVIDIA's repository out of reach fails clearly", async () => {
        const r = await apply("nvidia (debian source)", { containers: true, logMaxFiles: 3, nvidia: true });
        expect(r.error).toBeDefined();
        // NVIDIA's key is fetched and checked before anything is trusted; no cuda-keyring .deb runs.
        expect(r.error!.message).toMatch(/could not fetch the signing key https:\/\/developer\.download\.nvidia\.com\/compute\/cuda\/repos\/debian12\/x86_64\/3bf863cc\.pub from ws1: .*workstation\.nvidia.*nothing was installed/);
        const ok = r.ran.filter((c) => c.exitCode === 0).map((c) => c.name);
        expect(ok).toEqual(expect.arrayContaining(["ws-nvidia-ws1-apt-pin", "ws-nvidia-ws1-nouveau"]));
        // Debian's non-free driver (base enables non-free) follows the 535 branch at priority 1001: the candidate is
        // the branch's newest build in bookworm and bookworm-security (a security build when there is one).
        const policy = await tb.sshOk(ws1, "apt-cache policy nvidia-kernel-dkms");
        const candidate = /Candidate: (\S+)/.exec(policy)?.[1] ?? "";
        expect(candidate).toMatch(/^535\.\d+\.\d+-/);
        const listed = [...policy.matchAll(/^\s+(?:\*\*\* )?(535\.\S+) (\d+)$/gm)];
        expect(listed.length).toBeGreaterThan(0);
        expect(listed.every(([, , prio]) => prio === "1001")).toBe(true);
        expect(candidate).toBe(newestDebian(listed.map((m) => m[1])));
        expect(await tb.sshOk(ws1, "cat /etc/modprobe.d/aihpc-blacklist-nouveau.conf")).toContain("blacklist nouveau");
        // The driver step never ran (it waits for the repository), so nothing of the driver is installed.
        expect((await tb.ssh(ws1, "dpkg-query -W nvidia-kernel-dkms")).code).not.toBe(0);
    });

    test("CUDA module files with lmod: module avail / load against a stand-in CUDA 12.8 tree; re-run unchanged; delete", async () => {
        // The exact modules-step commands the program sends (the step itself waits for the CUDA
        // packages, which need NVIDIA's repository, so it is run here on its own).
        const { config: c } = config(tb, ws1, { nvidia: true });
        const raw = Object.fromEntries(Object.entries(c).map(([k, v]) => [k.replace(/^aihpc:/, ""), k === "aihpc:sshPrivateKey" ? v : JSON.parse(v)]));
        raw.workstation.nvidia = { cuda: { versions: ["12.8", "12.6"], default: "12.8" } };
        const facts = await tb.sshOk(ws1, "bash -s", { stdin: require("fs").readFileSync(require("path").resolve(__dirname, "../../components/workstation/host/scripts/facts.sh"), "utf8") });
        const plan = await runProgram(raw, { preview: false, newResource: (a: NewResourceArgs) => (a.name.endsWith("-facts") ? { stdout: facts, stderr: "" } : undefined) });
        const step = plan.inputsOf("ws-nvidia-ws1-cuda-modules");
        await tb.sshOk(ws1, "mkdir -p /usr/local/cuda-12.8/bin /usr/local/cuda-12.8/lib64 && printf '#!/bin/sh\\necho \"nvcc stand-in: Cuda compilation tools, release 12.8\"\\n' >/usr/local/cuda-12.8/bin/nvcc && chmod +x /usr/local/cuda-12.8/bin/nvcc");
        // With its stdin, as the provider sends it: the module files rendered for this host.
        const first = await tb.ssh(ws1, step.create, { stdin: step.stdin, timeoutMs: 600_000 });
        expect([first.code, first.stderr.slice(-500)]).toEqual([0, expect.anything()]);
        expect(first.stdout.trim().split("\n").pop()).toBe("aihpc: changed");
        const again = await tb.sshOk(ws1, step.create, { stdin: step.stdin });
        expect(again.trim()).toBe("aihpc: unchanged");
        const avail = await tb.sshOk(ws1, "bash -lc 'module -t avail cuda 2>&1'");
        expect(avail).toMatch(/cuda\/12\.6/);
        expect(avail).toMatch(/cuda\/12\.8/);
        const loaded = await tb.sshOk(ws1, "bash -lc 'module load cuda && echo CUDA_HOME=$CUDA_HOME && nvcc --version && module -t list 2>&1'");
        expect(loaded).toContain("CUDA_HOME=/usr/local/cuda-12.8");
        expect(loaded).toContain("nvcc stand-in");
        expect(loaded).toMatch(/cuda\/12\.8/);
        const missing = await tb.ssh(ws1, "bash -lc 'module load cuda/12.6' 2>&1");
        expect((missing.stdout + missing.stderr).replace(/\s+/g, " ")).toContain("CUDA 12.6 is not installed at /usr/local/cuda-12.6: add it to workstation.nvidia.cuda.versions");
        const del = await tb.sshOk(ws1, step.delete, { stdin: step.stdin });
        expect(del).toContain("removed /etc/lmod/modules/cuda");
        expect((await tb.ssh(ws1, "test -e /etc/lmod/modules/cuda")).code).not.toBe(0);
        expect((await tb.ssh(ws1, "dpkg-query -W -f='${Status}' lmod | grep -q 'ok installed'")).code).not.toBe(0);
        await tb.sshOk(ws1, "rm -rf /usr/local/cuda-12.8");
    });

    test("teardown: docker stopped and purged, daemon.json, pins, blacklist and data root gone", async () => {
        const r = await ex.destroy();
        log(`destroy: ${summary(r.ran)}`);
        if (r.error) throw r.error;
        for (const f of ["/etc/docker/daemon.json", "/etc/apt/preferences.d/aihpc-docker", "/etc/apt/preferences.d/aihpc-nvidia-pin", "/etc/modprobe.d/aihpc-blacklist-nouveau.conf", "/srv/docker"]) {
            expect([f, (await tb.ssh(ws1, `test -e ${f}`)).code]).toEqual([f, 1]);
        }
        expect((await tb.ssh(ws1, "dpkg-query -W -f='${Status}' docker.io | grep -q 'ok installed'")).code).not.toBe(0);
        expect((await tb.ssh(ws1, "systemctl is-active docker")).stdout.trim()).not.toBe("active");
    });
});
