import { slurmConf } from "../../../components/workstation/slurm/conf";
import { cloudGresLines, cloudGresType, cloudNodeList, powerSaveLines } from "../../../components/workstation/slurm/power-save";
import { parseConfig } from "../../helpers/harness";
import { oneHost } from "../../helpers/fixtures";

const input = { partition: "cloud", nodePrefix: "aihpc-gcp-cn-", maxNodes: 4, cpus: 8, realMemoryMb: 29491, gpu: { type: "l4", count: 1 }, suspendTime: 600, resumeTimeout: 1200, srunPortRange: "60001-63000" };

describe("slurm.conf power saving for the cloud partition", () => {
    test("the exact lines", () => {
        expect(powerSaveLines(input).filter((l) => l && !l.startsWith("#"))).toEqual([
            "SlurmctldParameters=enable_configless,cloud_reg_addrs",
            "CommunicationParameters=NoAddrCache",
            "TreeWidth=65533",
            "PrivateData=cloud",
            "SrunPortRange=60001-63000",
            "ResumeProgram=/usr/local/sbin/aihpc-cloud-resume",
            "SuspendProgram=/usr/local/sbin/aihpc-cloud-suspend",
            "ResumeFailProgram=/usr/local/sbin/aihpc-cloud-resume-fail",
            "ResumeTimeout=1200",
            "SuspendTimeout=120",
            "ResumeRate=4",
            "SuspendRate=4",
            "NodeName=aihpc-gcp-cn-[1-4] CPUs=8 RealMemory=29491 Gres=gpu:l4:1 Feature=cloud State=CLOUD",
            "PartitionName=cloud Nodes=aihpc-gcp-cn-[1-4] Default=NO MaxTime=UNLIMITED PriorityTier=1 DefMemPerCPU=3686 SuspendTime=600 ResumeTimeout=1200 State=UP",
        ]);
    });

    test("gres.conf names the cloud nodes' GPUs (configless nodes get the controller's file)", () => {
        expect(cloudGresLines(input)).toEqual(["NodeName=aihpc-gcp-cn-[1-4] Name=gpu Type=l4 File=/dev/nvidia0"]);
        expect(cloudGresLines({ ...input, maxNodes: 1, gpu: { type: "h100_80gb", count: 8 } })).toEqual(["NodeName=aihpc-gcp-cn-1 Name=gpu Type=h100_80gb File=/dev/nvidia[0-7]"]);
    });

    test("one node is not a range; gres types", () => {
        expect(cloudNodeList("x-cn-", 1)).toBe("x-cn-1");
        expect(cloudGresType("NVIDIA_TESLA_T4")).toBe("t4");
        expect(cloudGresType("NVIDIA_A100_80GB")).toBe("a100_80gb");
        expect(cloudGresType("NVIDIA_L4")).toBe("l4");
    });

    test("slurm.conf has no power saving without the cloud partition, and the lines after the partitions with it", () => {
        const config = parseConfig(oneHost()).workstation.slurm;
        const nodes = [{ name: "ws1", hostname: "ws1", cpus: 8, sockets: 1, coresPerSocket: 8, threadsPerCore: 1, realMemoryMb: 16000, gpus: [] }];
        const plain = slurmConf({ config, controller: { hostname: "ws1" }, nodes });
        expect(plain).not.toMatch(/ResumeProgram|State=CLOUD|SuspendTime/);
        const withCloud = slurmConf({ config, controller: { hostname: "ws1" }, nodes, cloud: input });
        const lines = withCloud.trimEnd().split("\n");
        expect(lines.indexOf("PartitionName=cloud Nodes=aihpc-gcp-cn-[1-4] Default=NO MaxTime=UNLIMITED PriorityTier=1 DefMemPerCPU=3686 SuspendTime=600 ResumeTimeout=1200 State=UP")).toBe(lines.length - 1);
        expect(lines.filter((l) => l.startsWith("SlurmctldParameters="))).toHaveLength(1);
    });
});
