import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SlurmConfig } from "../../../config/workstation";
import { Host } from "../host";
import { HostFacts } from "../host/facts";
import { fileText, retainStep, scriptStep, stepOptions, StepEnv } from "../../steps";
import { copyToHost, joinedStackFile, stackFile } from "../../steps/copied";
import { Ready, readyOn } from "../ready";
import { cgroupConf, GPU_EPILOG, gresConf, HEALTH_CHECK_PROGRAM, nodeGpus, nodeHealthConf, PATHS, shortHostname, slurmConf, slurmNode } from "./conf";
import { cloudGresLines, PowerSaveInput } from "./power-save";
import { accountingPassword, AccountingSteps, accountingSteps, accountsStep } from "./accounting";

export * from "./conf";

const SCRIPTS = `${__dirname}/scripts`;
const JOBS = path.join(__dirname, "templates", "jobs");

/** The job templates shipped to /usr/local/share/aihpc/jobs: file name -> the file in this checkout (bundled). */
export function jobTemplates(): Record<string, string> {
    return Object.fromEntries(
        fs
            .readdirSync(JOBS)
            .sort()
            .map((f) => [f, path.join(JOBS, f)]),
    );
}

export interface SlurmArgs {
    hosts: Host[];
    /** The host with role 'controller' (the schema allows exactly one). */
    controller: Host;
    config: SlurmConfig;
    /** The base system in place on each host (see Workstation.baseReady), where the stack manages it. */
    baseReady?: Ready;
    /**
     * GPU hosts whose driver the stack installs: the step that verified it (the
     * node health check and the GRES config come after it) and the facts with
     * the GPUs as found then (the probe ran before the driver), by host name.
     */
    gpus?: { ready: Ready; facts: Record<string, pulumi.Output<HostFacts>> };
    /** Install Debian's NVML GRES plugin on hosts with GPUs (gres.conf then adds AutoDetect=nvml). */
    nvml?: boolean;
    /** The cloud partition (gcp.cloudNodes): its slurm.conf lines, and gres.conf lines on the controller (configless nodes read that one). */
    cloud?: PowerSaveInput;
}

export interface SlurmHostSteps {
    retain: pulumi.Resource;
    packages: pulumi.Resource;
    munge: pulumi.Resource;
    health?: pulumi.Resource;
    jobs: pulumi.Resource;
    config: pulumi.Resource;
    /** Rootless Podman for container jobs (slurm.containerJobs), on compute hosts. */
    podman?: pulumi.Resource;
}

/**
 * A Slurm 22.05 cluster (Debian's packages): one controller, any number of
 * compute hosts, one munge key, config generated from every host's facts.
 * Steps per host: retain -> packages -> munge, health, jobs -> config; the
 * compute hosts' config waits for the controller's (slurmctld up first).
 */
export class Slurm extends pulumi.ComponentResource {
    public readonly mungeKey: random.RandomBytes;
    /** slurm.conf as every host gets it (unknown until the facts are). */
    public readonly slurmConf: pulumi.Output<string>;
    /** What slurm.conf's SlurmctldHost has slurmd and the commands connect to: the controller's address, else its name. */
    public readonly controllerSlurmAddress: pulumi.Output<string>;
    public readonly steps: Record<string, SlurmHostSteps>;
    public readonly controller: Host;
    /** slurmctld configured and running on the controller: what talks to it waits for this. */
    public readonly controllerReady: pulumi.Resource;
    /** Each host configured (slurmd running on compute hosts), by host. */
    public readonly nodeReady: Ready;
    /** The job templates under /usr/local/share/aihpc/jobs, by host. */
    public readonly jobTemplatesReady: Ready;
    /** workstation.slurm.accounting: its steps on the accounting host, and the accounts step (users may submit after it). */
    public readonly accounting?: AccountingSteps & { host: string; accounts: pulumi.Resource; password: random.RandomPassword };

    constructor(name: string, args: SlurmArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Slurm", name, {}, opts);
        const c = args.config;
        const compute = args.hosts.filter((h) => h.config.roles.includes("compute"));
        this.controller = args.controller;

        // 1024 random bytes, as `mungekey` makes; the provider keeps it secret in state.
        this.mungeKey = new random.RandomBytes(`${name}-munge-key`, { length: 1024 }, { parent: this });
        const mungeStdin = pulumi.secret(this.mungeKey.base64);

        const factsOf = (h: Host) => args.gpus?.facts[h.name] ?? h.facts;
        // ---- accounting: slurmdbd's host, and how slurmctld reaches it.
        const acct = c.accounting.enabled ? c.accounting : undefined;
        const acctHost = acct ? (args.hosts.find((h) => h.name === acct.host) ?? this.controller) : undefined;
        const acctAddr = acctHost ? pulumi.output(acctHost.config.address ?? factsOf(acctHost).apply((f) => shortHostname(f.hostname))) : pulumi.output(undefined);
        // The controller's config waits for slurmdbd, made in the accounting host's turn below.
        let dbdMade: (r: pulumi.Resource) => void = () => undefined;
        const dbdReady = acct ? new Promise<pulumi.Resource>((resolve) => (dbdMade = resolve)) : undefined;
        let acctSteps: AccountingSteps | undefined;
        const acctPassword = acct ? accountingPassword(`${name}-accounting`, this) : undefined;
        // ----
        const nodes = pulumi.all(compute.map((h) => factsOf(h))).apply((facts) => facts.map((f, i) => slurmNode(compute[i].config, f, c.memoryHeadroomMb)));
        this.controllerSlurmAddress = this.controller.config.address
            ? pulumi.output(this.controller.config.address)
            : factsOf(this.controller).apply((f) => shortHostname(f.hostname));
        this.slurmConf = pulumi
            .all([factsOf(this.controller), nodes, acctAddr])
            .apply(([cf, ns, accountingHost]) =>
                slurmConf({ config: c, controller: { hostname: shortHostname(cf.hostname), addr: this.controller.config.address }, nodes: ns, cloud: args.cloud, accountingHost }),
            );
        // One slurm.conf names every node: copied to each host by hash, so no host's state carries the cluster (issue 17).
        const slurmConfFile = joinedStackFile(
            `${name}-conf`,
            "SLURM_CONF_SHA256",
            this.slurmConf.apply((conf) => stackFile("slurm.conf", fileText(conf))),
            // After the preflight gate, as every other step: a refused host leaves no trace in the state either.
            { parent: this, dependsOn: [this.controller.ready] },
        );
        const jobFiles = jobTemplates();

        this.steps = {};
        const ordered = [this.controller, ...args.hosts.filter((h) => h !== this.controller)];
        for (const h of ordered) {
            const t = h.transport;
            const isController = h === this.controller;
            const isCompute = h.config.roles.includes("compute");
            const n = `${name}-${h.name}`;
            const after = stepOptions(this, h, readyOn(h.name, args.baseReady));
            const gpuReady = readyOn(h.name, args.gpus?.ready);

            const retain = retainStep(`${n}-retain`, t, "slurm", c.retain, after());
            const nvml = args.nvml === true && isCompute && h.config.gpus.count > 0;
            const pkgs = ["munge", "slurm-client", ...(isController ? ["slurmctld"] : []), ...(isCompute ? ["slurmd"] : [])];
            // The NVML plugin only when apt can install it beside this Slurm (packages.sh says why it may not).
            const packages = scriptStep(
                `${n}-packages`,
                t,
                { dir: SCRIPTS, file: "packages.sh", env: { PACKAGES: pkgs.join(" "), ...(nvml ? { OPTIONAL_PACKAGES: "slurm-wlm-nvml-plugin" } : {}) } },
                after(retain),
            );
            const munge = scriptStep(`${n}-munge`, t, { dir: SCRIPTS, file: "munge.sh", env: {}, stdin: mungeStdin }, after(packages));
            if (acct && h === acctHost && acctPassword) {
                acctSteps = accountingSteps(
                    `${name}-accounting`,
                    {
                        host: h,
                        config: c,
                        accounting: acct,
                        password: acctPassword,
                        hostname: factsOf(h).hostname,
                        controllerHostname: factsOf(this.controller).hostname,
                        accountingHost: acctAddr as pulumi.Output<string>,
                    },
                    after,
                    [munge],
                );
                dbdMade(acctSteps.dbd);
            }
            const jobs = scriptStep(
                `${n}-jobs`,
                t,
                { dir: SCRIPTS, file: "jobs.sh", env: { JOBS_DIR: PATHS.jobs }, sets: { JOB_FILES: jobFiles }, deleteEnv: { JOBS_DIR: PATHS.jobs } },
                after(retain),
            );
            // Rootless Podman for container jobs (scripts/podman.sh says why rootless).
            const podman = isCompute && c.containerJobs.enabled ? scriptStep(`${n}-podman`, t, { dir: SCRIPTS, file: "podman.sh", env: {} }, after(packages)) : undefined;
            let health: pulumi.Resource | undefined;
            if (isCompute) {
                const conf = factsOf(h).apply((f) => ({ HEALTH_CONF: nodeHealthConf({ node: h.name, gpus: nodeGpus(h.config, f), maxGpuTemp: c.gpuMaxTemperature }) }));
                const paths = { PROGRAM_FILE: HEALTH_CHECK_PROGRAM, EPILOG_FILE: GPU_EPILOG, CONF_FILE: PATHS.healthConf };
                const bundled = { HEALTH_SCRIPT: path.join(SCRIPTS, "node-health.sh"), EPILOG_SCRIPT: path.join(SCRIPTS, "gpu-epilog.sh") };
                health = scriptStep(
                    `${n}-health`,
                    t,
                    { dir: SCRIPTS, file: "health.sh", env: paths, files: conf, bundled, deleteEnv: paths },
                    after(packages, ...gpuReady),
                );
            }
            const configFiles = factsOf(h).apply((f) => {
                const node = { name: h.name, gpus: isCompute ? nodeGpus(h.config, f) : [] };
                return {
                    // The NVML plugin is asked for by this host's packages step exactly when `nvml` holds (installed when
                    // apt can; config.sh drops AutoDetect=nvml where it is not installed).
                    // The controller's also names the cloud nodes' GPUs (configless nodes read it).
                    GRES_CONF: fileText(
                        gresConf({ ...node, shardsPerGpu: h.config.gpus.sharing?.shards ?? 0 }, isCompute ? h.config.gpus.count : 0, nvml) +
                            (h === this.controller && args.cloud ? `${cloudGresLines(args.cloud).join("\n")}\n` : ""),
                    ),
                    CGROUP_CONF: fileText(cgroupConf(c.cgroups)),
                };
            });
            const configEnv: StepEnv = {
                CONF_DIR: PATHS.confDir,
                CONTROLLER: isController ? 1 : 0,
                COMPUTE: isCompute ? 1 : 0,
                // The controller drains a node that leaves and waits for its jobs before slurm.conf drops it.
                ...(isController ? { DRAIN_TIMEOUT: c.drainTimeout } : {}),
            };
            const slurmConfCopy = copyToHost(`${n}-conf-copy`, t, slurmConfFile, after());
            const configDeps: pulumi.Input<pulumi.Resource>[] = [munge, ...(health ? [health] : []), ...gpuReady, ...slurmConfCopy.after];
            if (!isController) configDeps.push(this.steps[this.controller.name].config);
            if (isController && dbdReady) configDeps.push(dbdReady);
            const config = scriptStep(
                `${n}-config`,
                t,
                {
                    dir: SCRIPTS,
                    file: "config.sh",
                    env: configEnv,
                    files: configFiles,
                    copied: { SLURM_CONF: slurmConfCopy.copied },
                    ...(isController ? { bundled: { DRAIN_PROGRAM: path.join(SCRIPTS, "drain-removed.sh") } } : {}),
                    deleteEnv: { CONF_DIR: PATHS.confDir },
                },
                after(...configDeps),
            );
            this.steps[h.name] = { retain, packages, munge, health, jobs, config, ...(podman ? { podman } : {}) };
        }
        this.controllerReady = this.steps[this.controller.name].config;
        if (acct && acctHost && acctSteps && acctPassword) {
            const accounts = accountsStep(
                `${name}-accounting`,
                { host: acctHost, config: c, accounting: acct, sacctmgrConf: acctSteps.sacctmgrConf },
                stepOptions(this, acctHost, readyOn(acctHost.name, args.baseReady))(acctSteps.dbd, this.controllerReady),
            );
            this.accounting = { ...acctSteps, host: acctHost.name, accounts, password: acctPassword };
        }
        this.nodeReady = Object.fromEntries(Object.entries(this.steps).map(([h, s]) => [h, s.config]));
        this.jobTemplatesReady = Object.fromEntries(Object.entries(this.steps).map(([h, s]) => [h, s.jobs]));
        this.registerOutputs({
            slurmConf: this.slurmConf,
            controller: this.controller.name,
            computeHosts: compute.map((h) => h.name),
            accounting: acct && acctHost ? { host: acctHost.name, dbdPort: acct.dbdPort, backupDir: acct.backup.dir } : undefined,
        });
    }
}
