import * as pulumi from "@pulumi/pulumi";
import { BaseConfig } from "../../../config/workstation";
import { Host } from "../host";
import { retainStep, scriptStep, stepOptions } from "../steps";

const SCRIPTS = `${__dirname}/scripts`;

/** Installed on every host before the configured extras; chrony keeps clocks in step for Slurm and munge. */
export const BASE_PACKAGES = ["chrony", "ca-certificates", "curl", "gnupg", "pciutils", "numactl", "hwloc", "rsync", "jq", "htop", "tmux", "lsof"];

export interface BaseSystemArgs {
    host: Host;
    config: BaseConfig;
    /** workstation.aptProxy */
    aptProxy?: string;
}

/**
 * The base of one workstation: apt sources and proxy, packages, time, kernel
 * and limits tuning, CPU governor, research users. One step per concern, each
 * carrying only its own settings, so a change re-runs just that step.
 */
export class BaseSystem extends pulumi.ComponentResource {
    /** Every step; later components depend on the whole component. */
    public readonly steps: pulumi.Resource[];
    /** The packages step: what needs apt sources and the proxy in place waits for it. */
    public readonly packages: pulumi.Resource;

    constructor(name: string, args: BaseSystemArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:BaseSystem", name, {}, opts);
        const { host, config: c } = args;
        const t = host.transport;
        const after = stepOptions(this, host);

        const retain = retainStep(`${name}-retain`, t, "base", c.retain, after());
        const proxy = scriptStep(`${name}-apt-proxy`, t, { dir: SCRIPTS, file: "apt-proxy.sh", env: { APT_PROXY: args.aptProxy ?? "" } }, after(retain));
        const sources = scriptStep(
            `${name}-apt-sources`,
            t,
            { dir: SCRIPTS, file: "apt-sources.sh", env: { MIRROR: c.aptMirror, SECURITY_MIRROR: c.aptSecurityMirror } },
            after(proxy),
        );
        const packages = [...new Set([...BASE_PACKAGES, ...c.packages])];
        this.packages = scriptStep(`${name}-packages`, t, { dir: SCRIPTS, file: "packages.sh", env: { PACKAGES: packages.join(" ") } }, after(sources));
        const time = scriptStep(`${name}-time`, t, { dir: SCRIPTS, file: "time.sh", env: { TIMEZONE: c.timezone, NTP_SERVERS: c.ntpServers.join(" ") } }, after(this.packages));
        const tuning = scriptStep(
            `${name}-tuning`,
            t,
            { dir: SCRIPTS, file: "tuning.sh", env: { SWAPPINESS: c.swappiness, NOFILE: c.nofile, MEMLOCK: c.memlock } },
            after(retain),
        );
        const governor = scriptStep(`${name}-cpu-governor`, t, { dir: SCRIPTS, file: "cpu-governor.sh", env: { GOVERNOR: c.cpuGovernor } }, after(retain));
        const users = scriptStep(
            `${name}-users`,
            t,
            {
                dir: SCRIPTS,
                file: "users.sh",
                env: {
                    GROUP: c.researchGroup,
                    USERS: c.users.map((u) => `${u.name}:${u.uid ?? ""}:${u.groups.join(",")}`).join("\n"),
                    USER_KEYS: c.users.flatMap((u) => u.sshKeys.map((k) => `${u.name} ${k.trim()}`)).join("\n"),
                },
                deleteEnv: { GROUP: c.researchGroup },
            },
            after(retain),
        );
        this.steps = [retain, proxy, sources, this.packages, time, tuning, governor, users];
        this.registerOutputs({});
    }
}
