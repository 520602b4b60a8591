// slurm.conf lines of the cloud partition (gcp.cloudNodes): Slurm's power
// saving turns State=CLOUD nodes into Compute Engine instances on demand.
// Pure, so the exact lines are unit-tested; checked against the slurm.conf(5)
// man page of Debian bookworm's Slurm 22.05.8.

/** Where the stack installs the power-save programs on the controller (components/hybrid/cloud-nodes/scripts). */
export const CLOUD_PROGRAMS = {
    resume: "/usr/local/sbin/aihpc-cloud-resume",
    suspend: "/usr/local/sbin/aihpc-cloud-suspend",
    resumeFail: "/usr/local/sbin/aihpc-cloud-resume-fail",
} as const;

export interface PowerSaveInput {
    partition: string;
    /** Node names are `<prefix><n>`, n = 1..maxNodes (the instance names the IAM condition allows). */
    nodePrefix: string;
    maxNodes: number;
    cpus: number;
    realMemoryMb: number;
    /** Gres type and count, e.g. `l4` x 1. */
    gpu: { type: string; count: number };
    suspendTime: number;
    resumeTimeout: number;
    srunPortRange: string;
}

/** `aihpc-gcp-cn-[1-4]` (or `aihpc-gcp-cn-1` for one node). */
export function cloudNodeList(nodePrefix: string, maxNodes: number): string {
    return maxNodes === 1 ? `${nodePrefix}1` : `${nodePrefix}[1-${maxNodes}]`;
}

/** GCE accelerator type -> Slurm gres type: NVIDIA_TESLA_T4 -> t4, NVIDIA_A100_80GB -> a100_80gb. */
export function cloudGresType(accelerator: string): string {
    return accelerator.toLowerCase().replace(/^nvidia_(tesla_)?/, "");
}

/**
 * Global power-save settings, the cloud nodes and the cloud partition. Only
 * cloud nodes ever power save: SuspendTime is set on the cloud partition, and
 * the global SuspendTime keeps its default, INFINITE (off), for the
 * workstation's own nodes.
 */
export function powerSaveLines(p: PowerSaveInput): string[] {
    const nodes = cloudNodeList(p.nodePrefix, p.maxNodes);
    return [
        "",
        "# Cloud nodes (gcp.cloudNodes): Compute Engine instances created on demand by ResumeProgram, deleted by SuspendProgram",
        // configless: nodes fetch this file from slurmctld; cloud_reg_addrs: a node's address is the one it registers from.
        // Not idle_on_node_suspend: it would offer a failed node again at SuspendTime, before its back-off ends; the
        // reconciler returns failed and lost nodes to service instead.
        "SlurmctldParameters=enable_configless,cloud_reg_addrs",
        // Cloud nodes change address between lives: never cache one.
        "CommunicationParameters=NoAddrCache",
        // Slurm's guide for cloud nodes: no fan-out tree through nodes that may not exist.
        "TreeWidth=65533",
        // Powered-down cloud nodes still show in sinfo.
        "PrivateData=cloud",
        `SrunPortRange=${p.srunPortRange}`,
        `ResumeProgram=${CLOUD_PROGRAMS.resume}`,
        `SuspendProgram=${CLOUD_PROGRAMS.suspend}`,
        `ResumeFailProgram=${CLOUD_PROGRAMS.resumeFail}`,
        `ResumeTimeout=${p.resumeTimeout}`,
        // Deleting an instance is asynchronous; the API call returns within seconds.
        "SuspendTimeout=120",
        // At most this many creations (and deletions) a minute: never a burst bigger than the partition.
        `ResumeRate=${p.maxNodes}`,
        `SuspendRate=${p.maxNodes}`,
        `NodeName=${nodes} CPUs=${p.cpus} RealMemory=${p.realMemoryMb} Gres=gpu:${p.gpu.type}:${p.gpu.count} Feature=cloud State=CLOUD`,
        // Its own memory per CPU: the cluster-wide DefMemPerCPU comes from the workstation's nodes and may exceed what a cloud node has.
        `PartitionName=${p.partition} Nodes=${nodes} Default=NO MaxTime=UNLIMITED PriorityTier=1 DefMemPerCPU=${Math.max(1, Math.floor(p.realMemoryMb / p.cpus))} SuspendTime=${p.suspendTime} ResumeTimeout=${p.resumeTimeout} State=UP`,
    ];
}

/**
 * gres.conf lines of the cloud nodes: in configless mode they receive the
 * controller's gres.conf, so it must name their GPUs (else slurmd reports
 * none and the node is drained for a low gres count).
 */
export function cloudGresLines(p: Pick<PowerSaveInput, "nodePrefix" | "maxNodes" | "gpu">): string[] {
    const files = p.gpu.count === 1 ? "/dev/nvidia0" : `/dev/nvidia[0-${p.gpu.count - 1}]`;
    return [`NodeName=${cloudNodeList(p.nodePrefix, p.maxNodes)} Name=gpu Type=${p.gpu.type} File=${files}`];
}

