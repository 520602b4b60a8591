import * as pulumi from "@pulumi/pulumi";
import { hybridOf, StackConfig } from "../config";
import { cloudNodeZones, controllerTunnelAddress, machineShape } from "../config/cloud-nodes";
import { cloudNodePrefix } from "./gcp/cloud-nodes";
import { cloudGresType, PowerSaveInput } from "./workstation/slurm/power-save";
import { GcpEnvironment, GcpOutputs } from "./gcp";
import { Naming } from "./gcp/naming";
import { userSubjectPrefix } from "./gcp/workload-identity";
import { Bridge } from "./hybrid";
import { CloudPartition } from "./hybrid/cloud-nodes";
import { ControllerTunnel, TunnelKey } from "./hybrid/cloud-nodes/tunnel";
import { UserCertificates } from "./hybrid/identity/user-certs";
import { EnvironmentSummary, environmentSummary } from "./hybrid/summary";
import { Workstation } from "./workstation";
import { readyOn } from "./workstation/ready";
import { beginTurns, endTurn } from "./steps/turns";

/** One host as configured and as it reported itself (facts probe; GPUs and driver from the verify step). */
export interface HostOutput {
    address: string;
    roles: string[];
    expectedGpus: number;
    reported: pulumi.Output<{
        hostname: string;
        os: string;
        kernel: string;
        cpus: number;
        memoryMb: number;
        cgroup: string;
        /** The driver nvidia-smi reports (empty without a driver). */
        driver: string;
        gpus: { index: number; name: string; memoryMiB: number }[];
        /** The default CUDA toolkit, where the stack installs one. */
        cuda?: string;
    }>;
    /**
     * Exact versions the steps found installed with dpkg (driver packages, docker.io), by package: with line pins,
     * the build each host runs, not an echo of the config. Known after apply.
     */
    installedPackages: pulumi.Output<Record<string, string>>;
}

/** Stack outputs: what `pulumi stack output` and the plan show. */
export interface StackOutputs {
    hosts: Record<string, HostOutput>;
    /** The Google Cloud side (the `gcp` stack): buckets, registry, identities, Vertex. */
    gcp?: pulumi.Output<GcpOutputs>;
    /** One summary of the environment: hosts, Slurm, monitoring URLs and, with gcp, image, buckets, Tensorboard, burst. */
    summary: pulumi.Output<EnvironmentSummary>;
    /** Grafana's admin password (secret: `pulumi stack output --show-secrets grafanaAdminPassword`); absent without Grafana. */
    grafanaAdminPassword?: pulumi.Output<string>;
}

/** Compose the whole graph from validated config. */
/** The cloud partition's Slurm lines from gcp.cloudNodes (the schema checked the machine shape). */
export function cloudPartitionOf(cfg: StackConfig, stack: string): PowerSaveInput | undefined {
    const g = cfg.gcp;
    const c = g?.cloudNodes;
    if (!g || !c?.enabled) return undefined;
    const shape = machineShape(c.machineType);
    if (!shape) throw new Error(`gcp.cloudNodes.machineType: unchecked config (the schema requires a known shape, got '${c.machineType}')`);
    return {
        partition: c.partition,
        nodePrefix: cloudNodePrefix({ naming: new Naming(g.prefix, stack, g.project) }),
        maxNodes: c.maxNodes,
        cpus: shape.cpus,
        // What the OS and the driver take is never the job's: promise 90% (slurmd drains a node with less than RealMemory).
        realMemoryMb: Math.floor(shape.memoryMb * 0.9),
        gpu: { type: cloudGresType(c.gpu.type), count: c.gpu.count },
        suspendTime: c.suspendTime,
        resumeTimeout: c.resumeTimeout,
        srunPortRange: c.srunPortRange,
    };
}

export async function defineStack(cfg: StackConfig): Promise<StackOutputs> {
    beginTurns();
    const cloudNodes = cfg.gcp?.cloudNodes;
    const tunnelOn = cfg.gcp !== undefined && cloudNodes?.enabled === true && cloudNodes.tunnel.enabled && cfg.workstation.slurm.enabled;
    const workstation = await Workstation.create("ws", {
        cloudPartition: cloudPartitionOf(cfg, pulumi.getStack()),
        config: cfg.workstation,
        sshPrivateKey: cfg.sshPrivateKey,
        aptProxyCredentials: cfg.aptProxyCredentials,
        alertWebhookSecret: cfg.alertWebhookSecret,
    });
    const nvidia = workstation.nvidia;
    const hosts = Object.fromEntries(
        workstation.hosts.map((h): [string, HostOutput] => [
            h.name,
            {
                address: h.config.address ?? "localhost",
                roles: h.config.roles,
                expectedGpus: h.config.gpus.count,
                // Known once the host answered (and, on GPU hosts, the driver's verify step ran).
                reported: (nvidia?.gpuFacts[h.name] ?? h.facts).apply((f) => ({
                    hostname: f.hostname,
                    os: `${f.os.id} ${f.os.versionId} (${f.os.codename})`,
                    kernel: f.kernel,
                    cpus: f.cpus,
                    memoryMb: f.memoryMb,
                    cgroup: f.cgroup,
                    driver: f.gpus[0]?.driverVersion ?? "",
                    gpus: f.gpus.map((g) => ({ index: g.index, name: g.name, memoryMiB: g.memoryMiB })),
                    ...(nvidia?.gpuFacts[h.name] && nvidia.defaultCuda ? { cuda: nvidia.defaultCuda } : {}),
                })),
                installedPackages: pulumi
                    .all([nvidia?.steps[h.name]?.installed ?? {}, workstation.containers?.steps[h.name]?.installed ?? {}])
                    .apply(([nv, ct]) => ({ ...nv, ...ct })),
            },
        ]),
    );
    // The bridge only in the gcp stack; nothing of the workstation waits for it.
    const hybridConfig = hybridOf(cfg);
    const bridge = cfg.gcp !== undefined && hybridConfig?.enabled === true;
    // Research users' own certificates, made on the hosts before the Google Cloud side,
    // whose X.509 provider trusts each host's user CA (read back from the host).
    const users = cfg.workstation.base.enabled ? cfg.workstation.base.users.map((u) => u.name) : [];
    let userCerts: UserCertificates | undefined;
    if (bridge && cfg.gcp!.workstationIdentity.enabled && users.length) {
        const naming = new Naming(cfg.gcp!.prefix, pulumi.getStack(), cfg.gcp!.project);
        const after: Record<string, pulumi.Input<pulumi.Resource>[]> = {};
        // After the whole base system: the users exist, the base packages (openssl, jq) are in.
        for (const h of workstation.hosts) after[h.name] = readyOn(h.name, workstation.baseReady, workstation.usersReady);
        userCerts = new UserCertificates("hybrid-user-certs", {
            hosts: workstation.hosts,
            users,
            subjectPrefix: userSubjectPrefix(naming),
            stackName: naming.name(""),
            validityDays: cfg.gcp!.workstationIdentity.certValidityDays,
            after,
        });
        await endTurn();
    }
    const slurm = cfg.workstation.slurm;
    // The tunnel's key is made on the controller first: the gateway's configuration names its public key.
    const tunnelKey = tunnelOn && workstation.slurm
        ? new TunnelKey("hybrid-tunnel-key", {
              controller: workstation.slurm!.controller,
              iface: cloudNodes!.tunnel.interface,
              waitFor: readyOn(workstation.slurm!.controller.name, workstation.baseReady),
          })
        : undefined;
    const gcp = cfg.gcp
        ? new GcpEnvironment("gcp", {
              config: cfg.gcp,
              workstationUsers: userCerts ? { names: users, caCerts: userCerts.caCerts } : undefined,
              cloudNodes:
                  cloudNodes?.enabled && workstation.slurm
                      ? {
                            config: cloudNodes,
                            controller: { address: controllerTunnelAddress(cloudNodes), port: slurm.slurmctldPort, slurmAddress: workstation.slurm.controllerSlurmAddress },
                            slurmdPort: slurm.slurmdPort,
                            mungeKey: workstation.slurm.mungeKey.base64,
                            controllerPublicKey: tunnelKey?.publicKey,
                        }
                      : undefined,
          })
        : undefined;
    await endTurn();
    const credential = gcp?.workloadIdentity.workstation;
    const training = gcp?.identities.accounts.training;
    // The schema turns the bridge on only with the workstation identity (config/hybrid.ts), which brings both.
    const hybrid =
        gcp && bridge && credential && training
            ? new Bridge("hybrid", {
                  config: hybridConfig!,
                  workstation: {
                      hosts: workstation.hosts,
                      users,
                      researchGroup: cfg.workstation.base.researchGroup,
                      baseReady: workstation.baseReady,
                      usersReady: workstation.usersReady,
                      dockerReady: workstation.containers?.dockerReady ?? {},
                      userCerts: userCerts?.steps,
                  },
                  cloud: {
                      project: gcp.ctx.project,
                      region: gcp.ctx.region,
                      credential,
                      trainingServiceAccount: training.email,
                      registry: gcp.registry ? { url: gcp.registry.url, resource: gcp.registry } : undefined,
                      buckets: gcp.storage.urls(),
                      tensorboard: gcp.vertex.tensorboard?.name,
                      identities: [gcp.identities, gcp.workloadIdentity],
                  },
              })
            : undefined;
    // The controller's side of the cloud partition: after the Google Cloud side and the controller's credential and
    // Slurm; on destroy first (drain, delete every cloud node), so the template, identities and network go last.
    const slurmCtl = workstation.slurm;
    // The controller's end of the tunnel: after the gateway (whose address and key it names); on destroy, before it.
    const tunnel =
        gcp?.tunnelGateway && gcp.tunnelGatewayPublicKey && tunnelKey && slurmCtl && cloudNodes
            ? new ControllerTunnel("hybrid-tunnel", {
                  controller: slurmCtl.controller,
                  iface: cloudNodes.tunnel.interface,
                  conf: pulumi.all([gcp.tunnelGateway.endpoint, gcp.tunnelGatewayPublicKey]).apply(([endpoint, gatewayPublicKey]) => ({
                      address: controllerTunnelAddress(cloudNodes),
                      gatewayPublicKey,
                      endpoint,
                      // The tunnel's range and the nodes' subnet: what slurmctld and srun reach through it.
                      allowedIps: [cloudNodes.tunnelCidr, cfg.gcp!.network.subnetCidr],
                      keepalive: cloudNodes.tunnel.keepalive,
                  })),
                  waitFor: [tunnelKey.step, gcp.tunnelGateway],
              })
            : undefined;
    if (gcp?.cloudNodes && hybrid && credential && slurmCtl && cloudNodes) {
        const ctl = slurmCtl.controller;
        const idSteps = hybrid.identity.steps[ctl.name];
        new CloudPartition("hybrid-cloud-nodes", {
            controller: ctl,
            partition: cloudNodes.partition,
            credential: { dir: credential.paths.dir, certPem: credential.certPem },
            settings: pulumi.output({
                project: gcp.ctx.project,
                zones: cloudNodeZones(cloudNodes, gcp.ctx.zone),
                template: gcp.cloudNodes.template.selfLink,
                nodePrefix: gcp.cloudNodes.nodePrefix,
                partition: cloudNodes.partition,
                backoffSeconds: cloudNodes.resumeFailBackoff,
                backend: cloudNodes.backend,
                testbedApi: cloudNodes.testbedApi,
            }),
            waitFor: [
                gcp.cloudNodes,
                gcp.identities,
                gcp.secrets,
                slurmCtl.controllerReady,
                idSteps.credentials,
                ...(idSteps.gcloud ? [idSteps.gcloud] : []),
                // On destroy the nodes are gone before the tunnel is.
                ...(tunnel ? [tunnel.step] : []),
            ],
        });
    }
    const summary = environmentSummary(
        cfg,
        gcp && hybrid
            ? pulumi.all([gcp.outputs, hybrid.outputs]).apply(([g, h]) => ({
                  buckets: g.buckets,
                  image: h.image ? { uri: h.image.uri, digest: h.image.digest } : undefined,
                  tensorboard: g.tensorboard,
                  trainingServiceAccount: g.serviceAccounts.training,
              }))
            : undefined,
    );
    const grafana = workstation.monitoring?.grafanaAdminPassword;
    return { hosts, ...(gcp ? { gcp: gcp.outputs } : {}), summary, ...(grafana ? { grafanaAdminPassword: pulumi.secret(grafana) } : {}) };
}
