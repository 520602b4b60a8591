import { parseConfig } from "../../helpers/harness";
import { twoHosts, oneHost } from "../../helpers/fixtures";
import { cgroupConf, gresConf, gresTypeOf, nodeGpus, nodeHealthConf, nodeLine, partitionLine, slurmConf, slurmNode } from "../../../components/workstation/slurm/conf";
import { factsOf } from "./facts";

function ws(raw: Record<string, any>) {
    return parseConfig(raw).workstation;
}

describe("slurm.conf generation from recorded facts", () => {
    test("one host (controller + compute, 2 CPUs, no GPU detected, fake device configured)", () => {
        const raw = oneHost();
        raw.workstation.hosts[0].gpus = { count: 1, devices: ["/dev/fakegpu0"] };
        const c = ws(raw);
        const facts = factsOf("facts-debian12-2cpu.txt", "ws1");
        const node = slurmNode(c.hosts[0], facts, c.slurm.memoryHeadroomMb);
        const conf = slurmConf({ config: c.slurm, controller: { hostname: "ws1", addr: "10.0.0.11" }, nodes: [node] });
        expect(conf).toContain("SlurmctldHost=ws1(10.0.0.11)\n");
        expect(conf).toContain("SelectType=select/cons_tres\n");
        expect(conf).toContain("GresTypes=gpu\n");
        expect(conf).toContain("HealthCheckProgram=/usr/local/sbin/aihpc-node-health\n");
        expect(conf).toContain("ProctrackType=proctrack/cgroup\n");
        // 24105 MB recorded, 512 MB headroom
        expect(conf).toContain(
            "NodeName=ws1 NodeAddr=10.0.0.11 CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=23593 Gres=gpu:fake:1 State=UNKNOWN\n",
        );
        expect(conf).toContain("PartitionName=gpu Nodes=ws1 Default=YES MaxTime=UNLIMITED PriorityTier=1 State=UP\n");
        expect(conf).toContain(`DefMemPerCPU=${Math.floor(23593 / 2)}\n`);
        expect(conf.endsWith("\n")).toBe(true);
    });

    test("two hosts: one node line each, NodeAddr per node, partitions over both", () => {
        const raw = twoHosts();
        raw.workstation.slurm = {
            partitions: [
                { name: "gpu", default: true, maxTime: "2-00:00:00", defaultTime: "1:00:00" },
                { name: "debug", hosts: ["ws2"], maxTime: "30", maxNodes: 1, priorityTier: 10 },
            ],
        };
        const c = ws(raw);
        const nodes = c.hosts.map((h) => slurmNode(h, factsOf("facts-debian12-2cpu.txt", h.name), c.slurm.memoryHeadroomMb));
        const conf = slurmConf({ config: c.slurm, controller: { hostname: "ws1", addr: "10.0.0.11" }, nodes });
        const nodeLines = conf.split("\n").filter((l) => l.startsWith("NodeName="));
        expect(nodeLines).toEqual([
            "NodeName=ws1 NodeAddr=10.0.0.11 CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=23593 State=UNKNOWN",
            "NodeName=ws2 NodeAddr=10.0.0.12 CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=23593 State=UNKNOWN",
        ]);
        expect(conf.split("\n").filter((l) => l.startsWith("PartitionName="))).toEqual([
            "PartitionName=gpu Nodes=ws1,ws2 Default=YES MaxTime=2-00:00:00 DefaultTime=1:00:00 PriorityTier=1 State=UP",
            "PartitionName=debug Nodes=ws2 Default=NO MaxTime=30 MaxNodes=1 PriorityTier=10 State=UP",
        ]);
        // One slurm.conf for every host: nothing host-specific outside node lines.
        expect(conf.match(/^SlurmctldHost=/gm)).toHaveLength(1);
    });

    test("hostname differing from the config name becomes NodeHostname", () => {
        const c = ws(oneHost());
        const node = slurmNode(c.hosts[0], factsOf("facts-debian12-2cpu.txt", "gpu-box.lab.example"), 512);
        expect(nodeLine(node)).toMatch(/^NodeName=ws1 NodeHostname=gpu-box NodeAddr=10\.0\.0\.11 /);
    });

    test("topology that does not add up is left out; RealMemory never below 3/4 of the host", () => {
        const c = ws(oneHost());
        const f = { ...factsOf("facts-debian12-2cpu.txt"), cpus: 3, memoryMb: 1000 };
        const line = nodeLine(slurmNode(c.hosts[0], f, 4096));
        expect(line).toContain("CPUs=3 RealMemory=750 ");
        expect(line).not.toContain("Sockets=");
    });

    test("partition line defaults to every compute host", () => {
        const c = ws(twoHosts());
        expect(partitionLine(c.slurm.partitions[0], ["ws1", "ws2"])).toBe("PartitionName=gpu Nodes=ws1,ws2 Default=YES MaxTime=UNLIMITED PriorityTier=1 State=UP");
    });

    test("cgroups off: linuxproc and no task confinement", () => {
        const raw = oneHost();
        raw.workstation.slurm = { cgroups: false };
        const c = ws(raw);
        const conf = slurmConf({ config: c.slurm, controller: { hostname: "ws1" }, nodes: [] });
        expect(conf).toContain("ProctrackType=proctrack/linuxproc\n");
        expect(conf).toContain("TaskPlugin=task/none\n");
        expect(conf).toContain("SlurmctldHost=ws1\n");
        expect(cgroupConf(false)).not.toMatch(/^Constrain/m);
    });
});

describe("gres.conf", () => {
    test("nvidia GPUs from nvidia-smi (recorded on the H200 machine): File=/dev/nvidiaN, type from the name", () => {
        const c = ws(oneHost());
        const gpus = nodeGpus(c.hosts[0], factsOf("facts-h200.txt"));
        expect(gpus).toEqual([{ type: "h200", file: "/dev/nvidia0", source: "nvidia" }]);
        expect(gresConf({ name: "ws1", gpus })).toBe(
            "# Managed by aihpc (Pulumi): GPUs from nvidia-smi, else workstation.hosts[].gpus.devices.\nNodeName=ws1 Name=gpu Type=h200 File=/dev/nvidia0\n",
        );
        const node = slurmNode(c.hosts[0], factsOf("facts-h200.txt"), 512);
        expect(nodeLine(node)).toBe("NodeName=ws1 NodeAddr=10.0.0.11 CPUs=16 Sockets=1 CoresPerSocket=16 ThreadsPerCore=1 RealMemory=128375 Gres=gpu:h200:1 State=UNKNOWN");
    });

    test("nvidia-smi GPUs win over configured devices; gresType overrides the type", () => {
        const raw = oneHost();
        raw.workstation.hosts[0].gpus = { count: 1, devices: ["/dev/fakegpu0"], gresType: "big" };
        const c = ws(raw);
        expect(nodeGpus(c.hosts[0], factsOf("facts-h200.txt"))).toEqual([{ type: "big", file: "/dev/nvidia0", source: "nvidia" }]);
    });

    test("no GPU detected: configured fake devices, else a comment that says what to do", () => {
        const raw = twoHosts();
        raw.workstation.hosts[0].gpus = { count: 2, devices: ["/dev/fakegpu0", "/dev/fakegpu1"] };
        const c = ws(raw);
        const f = factsOf("facts-debian12-2cpu.txt");
        expect(gresConf({ name: "ws1", gpus: nodeGpus(c.hosts[0], f) })).toContain(
            "NodeName=ws1 Name=gpu Type=fake File=/dev/fakegpu0\nNodeName=ws1 Name=gpu Type=fake File=/dev/fakegpu1\n",
        );
        expect(nodeLine(slurmNode(c.hosts[0], f, 512))).toContain(" Gres=gpu:fake:2 ");
        const none = gresConf({ name: "ws2", gpus: nodeGpus(c.hosts[1], f) }, 1);
        expect(none).not.toMatch(/^NodeName=/m);
        expect(none).toContain("expects 1 GPU(s) but none were detected: install the driver");
        expect(nodeLine(slurmNode(c.hosts[1], f, 512))).not.toContain("Gres=");
    });

    test("GRES type names", () => {
        expect(gresTypeOf("NVIDIA RTX A5500")).toBe("rtx_a5500");
        expect(gresTypeOf("NVIDIA H100 80GB HBM3")).toBe("h100_80gb_hbm3");
        expect(gresTypeOf("Tesla V100-SXM2-16GB")).toBe("tesla_v100_sxm2_16gb");
    });
});

describe("node health settings (rendered for the health step)", () => {
    test("the node's GPUs, their source and the limits, as node-health.sh sources them", () => {
        const text = nodeHealthConf({ node: "ws2", gpus: [{ type: "fake", file: "/dev/fakegpu0", source: "configured" }, { type: "fake", file: "/dev/fakegpu1", source: "configured" }], maxGpuTemp: 85 });
        expect(text.split("\n")).toEqual([
            "# Managed by aihpc: read by /usr/local/sbin/aihpc-node-health",
            "NODE_NAME=ws2",
            "EXPECTED_GPUS=2",
            "GPU_SOURCE=configured",
            'GPU_FILES="/dev/fakegpu0 /dev/fakegpu1"',
            "MIN_FREE_PERCENT=5",
            "MAX_GPU_TEMP=85",
        ]);
        // A shell reads it back as the program does (`. FILE`).
        const r = require("child_process").spawnSync("bash", ["-c", `${text}\necho "$NODE_NAME|$GPU_FILES|$EXPECTED_GPUS"`], { encoding: "utf8" });
        expect(r.stdout.trim()).toBe("ws2|/dev/fakegpu0 /dev/fakegpu1|2");
        expect(nodeHealthConf({ node: "ws1", gpus: [], maxGpuTemp: 90 })).toContain("\nEXPECTED_GPUS=0\nGPU_SOURCE=none\nGPU_FILES=\"\"\n");
    });
});
