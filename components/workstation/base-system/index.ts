import * as pulumi from "@pulumi/pulumi";
import { SecretValue, UNDECRYPTED_SECRET } from "../../../config/secret";
import { BaseConfig } from "../../../config/workstation";
import { Host } from "../host";
import { retainStep, scriptStep, stepOptions } from "../../steps";
import { sshdDropIn } from "./sshd";

const SCRIPTS = `${__dirname}/scripts`;

/** Installed on every host before the configured extras; chrony keeps clocks in step for Slurm and munge. */
export const BASE_PACKAGES = ["chrony", "ca-certificates", "curl", "gnupg", "pciutils", "numactl", "hwloc", "rsync", "jq", "htop", "tmux", "lsof"];

/** The `machine` apt's auth.conf matches a proxy by: scheme, host and port as the URL gives them. */
export function proxyMachine(url: string): string {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
}

export interface BaseSystemArgs {
    host: Host;
    config: BaseConfig;
    /** workstation.aptProxy */
    aptProxy?: string;
    /** aihpc:aptProxyCredentials, `user:password` for the proxy: on the step's stdin, written 0600 to apt's auth.conf.d. */
    aptProxyCredentials?: SecretValue;
}

/**
 * The base of one workstation: apt sources and proxy, packages, time, kernel
 * and limits tuning, CPU governor, research users. One step per concern, each
 * carrying only its own settings, so a change re-runs just that step.
 */
export class BaseSystem extends pulumi.ComponentResource {
    public readonly steps: pulumi.Resource[];
    /** Apt sources, proxy and base packages in place: what installs packages waits for it. */
    public readonly packages: pulumi.Resource;
    /** The research group and users exist: what adds them to groups or hands them files waits for it. */
    public readonly users: pulumi.Resource;

    constructor(name: string, args: BaseSystemArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:BaseSystem", name, {}, opts);
        const { host, config: c } = args;
        const t = host.transport;
        const after = stepOptions(this, host);

        const retain = retainStep(`${name}-retain`, t, "base", c.retain, after());
        const auth = args.aptProxy && args.aptProxyCredentials ? args.aptProxyCredentials : undefined;
        const proxy = scriptStep(
            `${name}-apt-proxy`,
            t,
            {
                dir: SCRIPTS,
                file: "apt-proxy.sh",
                // apt matches a proxy's credentials by `machine scheme://host[:port]` (apt_auth.conf(5)).
                env: { APT_PROXY: args.aptProxy ?? "", PROXY_AUTH: auth ? 1 : 0, PROXY_MACHINE: args.aptProxy ? proxyMachine(args.aptProxy) : "" },
                stdin: auth ? pulumi.secret(auth.value ?? UNDECRYPTED_SECRET) : undefined,
            },
            after(retain),
        );
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
        const users = (this.users = scriptStep(
            `${name}-users`,
            t,
            {
                dir: SCRIPTS,
                file: "users.sh",
                env: { GROUP: c.researchGroup },
                // One line per user and per key: files on stdin, not settings (keys add up past the command-line limit).
                files: {
                    USERS: c.users.map((u) => `${u.name}:${u.uid ?? ""}:${u.groups.join(",")}`).join("\n"),
                    USER_KEYS: c.users.flatMap((u) => u.sshKeys.map((k) => `${u.name} ${k.trim()}`)).join("\n"),
                },
                deleteEnv: { GROUP: c.researchGroup },
            },
            after(retain),
        ));
        this.steps = [retain, proxy, sources, this.packages, time, tuning, governor, users];
        // Only when workstation.base.sshd sets something: unset again, the step goes and its delete removes the drop-in.
        const sshdConf = sshdDropIn(c.sshd);
        if (sshdConf !== undefined) {
            const sshd = scriptStep(
                `${name}-sshd`,
                t,
                {
                    dir: SCRIPTS,
                    file: "sshd.sh",
                    // The user the stack connects as (none locally): the step refuses a drop-in that would lock it out.
                    env: { CONNECT_USER: t.kind === "ssh" ? host.config.user : "" },
                    files: { SSHD_CONF: sshdConf },
                },
                // After users (a research user's key is in place before passwords go) and packages (no
                // install's daemon-reload while it reloads sshd).
                after(users, this.packages),
            );
            this.steps.push(sshd);
        }
        this.registerOutputs({ packages, users: c.users.map((u) => u.name), researchGroup: c.researchGroup, sshdHardened: sshdConf !== undefined });
    }
}
