// Container jobs (workstation.slurm.containerJobs): the rootless Podman step on
// compute hosts and the job template. The real-host proof is
// tests/testbed/slurm-containers.test.ts.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConfig, runProgram } from "../../helpers/harness";
import { twoHosts } from "../../helpers/fixtures";
import { stepText } from "../../helpers/steps";
import { factsHook } from "./facts";

const STEP = "command:remote:Command";
const TEMPLATE = path.resolve(__dirname, "../../../components/workstation/slurm/templates/jobs/container.sbatch");

function raw(containerJobs?: Record<string, unknown>): Record<string, any> {
    const r = twoHosts();
    r.workstation.hosts[0].roles = ["controller"];
    Object.assign(r.workstation, { nvidia: { enabled: false }, containers: { enabled: false }, mlRuntime: { enabled: false }, acceptance: { enabled: false } });
    r.workstation.slurm = containerJobs ? { containerJobs } : {};
    return r;
}

describe("slurm.containerJobs", () => {
    test("off by default; a wrong value is refused with the setting's name", () => {
        expect(parseConfig(raw()).workstation.slurm.containerJobs).toEqual({ enabled: false });
        expect(() => parseConfig(raw({ enabled: "yes" }))).toThrow(/workstation\.slurm\.containerJobs\.enabled/);
        expect(() => parseConfig(raw({ enabled: true, docker: true }))).toThrow(/workstation\.slurm\.containerJobs/);
    });

    test("on: a podman step on each compute host only, after its Slurm packages; off: none", async () => {
        const on = await runProgram(raw({ enabled: true }), { preview: false, newResource: factsHook() });
        const podman = on.ofType(STEP).filter((r) => r.name.endsWith("-podman"));
        expect(podman.map((r) => r.name)).toEqual(["ws-slurm-ws2-podman"]);
        expect(on.named("ws-slurm-ws2-podman").dependencies).toEqual(expect.arrayContaining([on.named("ws-slurm-ws2-packages").urn]));
        const text = stepText(on.named("ws-slurm-ws2-podman").inputs);
        expect(text).toContain("aihpc_apt_install slurm-podman podman uidmap");
        const off = await runProgram(raw(), { preview: false, newResource: factsHook() });
        expect(off.ofType(STEP).filter((r) => r.name.endsWith("-podman"))).toEqual([]);
    });
});

describe("container.sbatch picks the granted GPUs' files", () => {
    // The template run up to Podman with a stand-in podman that prints its arguments.
    const run = (gres: string, jobGpus: string) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-ctr-"));
        fs.mkdirSync(path.join(dir, "bin"));
        fs.writeFileSync(path.join(dir, "gres.conf"), gres);
        fs.writeFileSync(path.join(dir, "bin", "podman"), '#!/bin/sh\n[ "$1" = ps ] && exit 0\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
        const r = spawnSync("bash", [TEMPLATE, "sh", "-c", "true"], {
            env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, IMAGE: "localhost/test", SLURM_CONF: path.join(dir, "slurm.conf"), SLURMD_NODENAME: "ws2", SLURM_JOB_GPUS: jobGpus, SLURM_JOB_ID: "7", SLURM_SUBMIT_DIR: dir, XDG_RUNTIME_DIR: dir },
            encoding: "utf8",
        });
        fs.rmSync(dir, { recursive: true, force: true });
        return r;
    };
    const GRES = [
        "AutoDetect=nvml",
        "NodeName=ws1 Name=gpu Type=fake File=/dev/fakegpu0",
        "NodeName=ws2 Name=gpu Type=fake File=/dev/fakegpu0",
        "NodeName=ws2 Name=gpu Type=fake File=/dev/fakegpu1",
        "NodeName=ws2 Name=shard Count=2 File=/dev/fakegpu1",
        "",
    ].join("\n");

    test("index 1 on ws2 is /dev/fakegpu1, and only it; the container stays in the job's cgroup", () => {
        const r = run(GRES, "1");
        expect(r.status).toBe(0);
        const args = r.stdout.trim().split("\n");
        expect(args.filter((a, i) => args[i - 1] === "--device")).toEqual(["/dev/fakegpu1"]);
        expect(args).toEqual(expect.arrayContaining(["--cgroup-manager=cgroupfs", "--cgroups=disabled", "--name", "slurm-job-7", "localhost/test", "sh", "-c", "true"]));
    });

    test("two GPUs; an index the node's gres.conf lacks fails the job", () => {
        const both = run(GRES, "0,1").stdout.trim().split("\n");
        expect(both.filter((a, i) => both[i - 1] === "--device")).toEqual(["/dev/fakegpu0", "/dev/fakegpu1"]);
        const bad = run(GRES, "2");
        expect(bad.status).not.toBe(0);
        expect(bad.stderr).toMatch(/GPU index 2 \(SLURM_JOB_GPUS\) is not in .*gres\.conf/);
    });
});
