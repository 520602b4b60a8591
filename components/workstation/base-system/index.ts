import * as pulumi from "@pulumi/pulumi";
import { SecretValue, UNDECRYPTED_SECRET } from "../../../config/secret";
import { BaseConfig } from "../../../config/workstation";
import { Host } from "../host";
import { retainStep, scriptStep, stepOptions } from "../../steps";
import { marker } from "../../steps/join";
import { sshdDropIn } from "./sshd";
import { aptProxyAuth, aptProxyConf, chronySources, debianSources, governorUnit, PATHS, SOURCES_LIST_STUB, tuningFiles } from "./files";

export * from "./files";

const SCRIPTS = `${__dirname}/scripts`;

/** Installed on every host before the configured extras; chrony keeps clocks in step for Slurm and munge. */
export const BASE_PACKAGES = ["chrony", "ca-certificates", "curl", "gnupg", "pciutils", "numactl", "hwloc", "rsync", "jq", "htop", "tmux", "lsof"];

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
    /** Every step above done (`<name>-ready`, runs nothing): what waits for the base system waits for this one resource. */
    public readonly ready: pulumi.Resource;
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
        const proxyUrl = args.aptProxy;
        const auth = proxyUrl && args.aptProxyCredentials ? args.aptProxyCredentials : undefined;
        const proxyFiles = { CONF_FILE: PATHS.aptProxy, AUTH_FILE: PATHS.aptProxyAuth };
        const proxy = scriptStep(
            `${name}-apt-proxy`,
            t,
            {
                dir: SCRIPTS,
                file: "apt-proxy.sh",
                env: { ...proxyFiles, APT_PROXY: proxyUrl ?? "", PROXY_AUTH: auth ? 1 : 0 },
                files: proxyUrl ? { PROXY_CONF: aptProxyConf(proxyUrl) } : {},
                // The credentials' file, rendered from the secret: on stdin only (an undecrypted plan shows a placeholder).
                stdin: proxyUrl && auth ? pulumi.secret(auth.value === undefined ? UNDECRYPTED_SECRET : aptProxyAuth(proxyUrl, auth.value)) : undefined,
                deleteEnv: proxyFiles,
            },
            after(retain),
        );
        const sourcesFiles = { SOURCES_FILE: PATHS.debianSources, LIST_FILE: PATHS.sourcesList };
        const sources = scriptStep(
            `${name}-apt-sources`,
            t,
            {
                dir: SCRIPTS,
                file: "apt-sources.sh",
                env: { ...sourcesFiles, MIRROR: c.aptMirror, SECURITY_MIRROR: c.aptSecurityMirror },
                files: { DEBIAN_SOURCES: debianSources(c.aptMirror, c.aptSecurityMirror), SOURCES_LIST_STUB },
                deleteEnv: sourcesFiles,
            },
            after(proxy),
        );
        const packages = [...new Set([...BASE_PACKAGES, ...c.packages])];
        this.packages = scriptStep(`${name}-packages`, t, { dir: SCRIPTS, file: "packages.sh", env: { PACKAGES: packages.join(" ") } }, after(sources));
        const chrony = chronySources(c.ntpServers);
        const time = scriptStep(
            `${name}-time`,
            t,
            {
                dir: SCRIPTS,
                file: "time.sh",
                env: { TIMEZONE: c.timezone, SOURCES_FILE: PATHS.chronySources },
                files: chrony === undefined ? {} : { CHRONY_SOURCES: chrony },
                deleteEnv: { SOURCES_FILE: PATHS.chronySources },
            },
            after(this.packages),
        );
        const tuningPaths = { SYSCTL_FILE: PATHS.sysctl, LIMITS_FILE: PATHS.limits, SYSTEMD_FILE: PATHS.systemdLimits };
        const tuned = tuningFiles(c);
        const tuning = scriptStep(
            `${name}-tuning`,
            t,
            {
                dir: SCRIPTS,
                file: "tuning.sh",
                env: tuningPaths,
                files: { SYSCTL_CONF: tuned.sysctl, LIMITS_CONF: tuned.limits, SYSTEMD_CONF: tuned.systemd },
                deleteEnv: tuningPaths,
            },
            after(retain),
        );
        const unit = governorUnit(c.cpuGovernor);
        const governor = scriptStep(
            `${name}-cpu-governor`,
            t,
            {
                dir: SCRIPTS,
                file: "cpu-governor.sh",
                env: { GOVERNOR: c.cpuGovernor, UNIT_FILE: PATHS.governorUnit },
                files: unit === undefined ? {} : { UNIT_TEXT: unit },
                deleteEnv: { UNIT_FILE: PATHS.governorUnit },
            },
            after(retain),
        );
        const users = (this.users = scriptStep(
            `${name}-users`,
            t,
            {
                dir: SCRIPTS,
                file: "users.sh",
                env: { GROUP: c.researchGroup, ...(c.researchGroupGid !== undefined ? { GROUP_GID: c.researchGroupGid } : {}) },
                // One line per user and per key: files on stdin, not settings (keys add up past the command-line limit).
                files: {
                    USERS: c.users.map((u) => `${u.name}:${u.uid ?? ""}:${u.groups.join(",")}`).join("\n"),
                    USER_KEYS: c.users.flatMap((u) => u.sshKeys.map((k) => `${u.name} ${k.trim()}`)).join("\n"),
                },
                deleteEnv: { GROUP: c.researchGroup },
            },
            // After the packages: their postinst scripts add system users (chrony), and useradd fails while they hold /etc/passwd's lock.
            after(retain, this.packages),
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
        this.ready = marker(`${name}-ready`, this.steps, { parent: this });
        this.registerOutputs({ packages, users: c.users.map((u) => u.name), researchGroup: c.researchGroup, sshdHardened: sshdConf !== undefined });
    }
}
