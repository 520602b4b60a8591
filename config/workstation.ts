import { z } from "zod";
import { versions } from "./versions";
import { hostname, imageByDigest, keyFingerprints, port, sha256, toggle } from "./common";
import { devicePath, httpUrl, ipNetwork, managedPath, networkHost } from "./formats";
import { parseSshPublicKey } from "./ssh-key";

/** A public host key as `ssh-keyscan` or `/etc/ssh/ssh_host_*_key.pub` prints it (parsed: config/ssh-key.ts). */
const hostKey = z.string().transform((s, ctx) => {
    const r = parseSshPublicKey(s, { hostKey: true });
    if ("problem" in r) {
        ctx.issues.push({ code: "custom", message: r.problem, input: s });
        return z.NEVER;
    }
    return r.key.line;
});

export const hostRoles = ["controller", "compute"] as const;

const gpus = z.strictObject({
    /** GPUs the host must show; the driver step and the acceptance suite check it. */
    count: z.number().int().min(0).max(16).default(0),
    /** Marketing name as nvidia-smi prints it, e.g. "NVIDIA RTX A5500"; optional. */
    model: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9 ._()/+-]{0,63}$/, "expected a GPU name as nvidia-smi prints it, such as \"NVIDIA RTX A5500\" (letters, digits, spaces, '.', '_', '-', '/', '+', parentheses)")
        .optional(),
    /**
     * Device files Slurm schedules as this host's GPUs when the driver lists
     * none (nvidia-smi absent): a test host's stand-in device such as
     * `/dev/fakegpu0`. GPUs that nvidia-smi lists always win.
     */
    devices: z.array(devicePath).max(16).optional(),
    /** Slurm GRES type (`--gres=gpu:TYPE:1`); default from the nvidia-smi name, or `fake` for `devices`. */
    gresType: z.string().regex(/^[a-z0-9_]{1,32}$/, "expected a GRES type: lowercase letters, digits and '_'").optional(),
    /**
     * Share each GPU between jobs: Slurm shards (`gres/shard`, `--gres=shard:1`), `shards` per GPU. A job with
     * `--gres=gpu:1` still gets a whole GPU, and waits while any shard of it is in use.
     */
    sharing: z
        .strictObject({
            shards: z.number().int().min(1).max(128),
        })
        .optional(),
});

export const hostSchema = z.strictObject({
    name: hostname,
    /** IPv4 address or DNS name; required for the ssh transport. */
    address: z
        .string()
        .regex(
            /^((25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}|[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})(\.[a-zA-Z0-9-]{1,63})*)$/,
            "expected an IPv4 address or a DNS name",
        )
        .optional(),
    port: port.default(22),
    user: z
        .string()
        .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "expected a Unix user name")
        .default("root"),
    hostKey: hostKey.optional(),
    roles: z.array(z.enum(hostRoles)).min(1).default(["controller", "compute"]),
    gpus: gpus.prefault({}),
});

const researchUser = z
    .strictObject({
        name: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "expected a Unix user name"),
        uid: z.number().int().min(1000).max(60000).optional(),
        /** Extra groups beyond the research group (docker, video, render are added by their components). */
        groups: z.array(z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "expected a Unix group name")).default([]),
        /** Public keys, one per item, as in ~/.ssh/id_ed25519.pub (parsed: config/ssh-key.ts). */
        sshKeys: z.array(z.string()).default([]),
        /** Allow authorized_keys options (`from=`, `command=`, `restrict`, ...) before this user's keys. */
        allowKeyOptions: z.boolean().default(false),
    })
    .transform((u, ctx) => {
        const keys = u.sshKeys.map((k, i) => {
            const r = parseSshPublicKey(k, { allowOptions: u.allowKeyOptions });
            if ("problem" in r) {
                ctx.issues.push({ code: "custom", message: r.problem, input: k, path: ["sshKeys", i] });
                return k;
            }
            return r.key.line;
        });
        return { ...u, sshKeys: keys };
    });

const base = z.strictObject({
    ...toggle,
    /** Debian mirror for main, contrib, non-free and non-free-firmware. */
    aptMirror: httpUrl().default("http://deb.debian.org/debian"),
    aptSecurityMirror: httpUrl().default("http://deb.debian.org/debian-security"),
    packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, "expected a Debian package name")).default([]),
    timezone: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/, "expected a time zone name such as \"Europe/Berlin\" or \"Etc/UTC\"")
        .default("Etc/UTC"),
    /** Extra NTP servers for chrony, one host name or IPv4 address per item. */
    ntpServers: z.array(networkHost).default([]),
    swappiness: z.number().int().min(0).max(100).default(10),
    /** Open files per process; ML data loaders open many. */
    nofile: z.number().int().min(1024).max(16777216).default(1048576),
    /** `unlimited` is what CUDA pinned memory and RDMA want. */
    memlock: z.union([z.literal("unlimited"), z.number().int().min(64)]).default("unlimited"),
    cpuGovernor: z.enum(["performance", "schedutil", "ondemand", "powersave", "unchanged"]).default("performance"),
    researchGroup: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "expected a Unix group name").default("research"),
    /** The research group's gid, the same on every host (required with shared storage: files keep their group across hosts). */
    researchGroupGid: z.number().int().min(1000).max(60000).optional(),
    users: z.array(researchUser).default([]),
    /**
     * Optional sshd hardening: a drop-in in /etc/ssh/sshd_config.d/ (checked with `sshd -t`, and never locking out
     * the connection's user) with what is set here; unset, sshd's own configuration stays as it is.
     */
    sshd: z
        .strictObject({
            /** `no` (also `false`) or `prohibit-password` (keys only); `no` needs a connection user other than root. */
            permitRootLogin: z
                .union([z.literal(false).transform(() => "no" as const), z.enum(["no", "prohibit-password"])])
                .optional(),
            /** `false`: no password logins (PasswordAuthentication and KbdInteractiveAuthentication no): keys only. */
            passwordAuthentication: z.boolean().optional(),
        })
        .default({}),
});

/**
 * CUDA toolkits NVIDIA's Debian 12 repository publishes (`cuda-toolkit-X-Y`):
 * another version would fail on the host, minutes into `pulumi up`. Extend it
 * from `apt-cache search --names-only '^cuda-toolkit-[0-9]+-[0-9]+$'` on a host.
 */
export const cudaRepoVersions: readonly string[] = ["12.2", "12.3", "12.4", "12.5", "12.6", "12.8", "12.9", "13.0"];

const nvidia = z.strictObject({
    ...toggle,
    driver: z
        .strictObject({
            /** `debian`: non-free 535 packages; `cuda-repo`: NVIDIA's repository, newer branches. */
            source: z.enum(["debian", "cuda-repo"]).default("debian"),
            branch: z
                .string()
                .regex(/^\d{3}$/, "expected a driver branch such as \"535\" or \"570\"")
                .optional(),
            /**
             * Source `debian`, opt-in: an exact driver instead of the branch's newest build. An upstream version
             * ("535.261.03": the Debian revision still moves) or a full Debian version ("535.261.03-1"). Unset, the
             * driver follows the branch with its security builds (README "Versions"); the policy rule
             * `debian-exact-pin-security` warns when an exact pin holds back a known security build.
             */
            version: z
                .string()
                .regex(/^\d{3}\.\d{2,3}(\.\d{2})?(-[0-9A-Za-z.+~]+)?$/, "expected a driver version such as \"535.261.03\" or \"535.261.03-1\"")
                .optional(),
            openKernelModules: z.boolean().default(false),
            /** Reboot when the driver needs one and wait for SSH; otherwise stop and say so. */
            allowReboot: z.boolean().default(false),
            /** How long to wait for SSH after a reboot. */
            rebootTimeoutSeconds: z.number().int().min(60).max(3600).default(600),
            persistenceMode: z.boolean().default(true),
        })
        .prefault({}),
    cuda: z
        .strictObject({
            /** `[]`: no CUDA toolkit; with the driver from Debian, NVIDIA's repository is then not used at all. */
            versions: z
                .array(
                    z
                        .string()
                        .regex(/^\d{2}\.\d$/, "expected a CUDA version such as \"12.8\"")
                        .refine((v) => cudaRepoVersions.includes(v), `expected a CUDA version NVIDIA's Debian 12 repository publishes (${cudaRepoVersions.join(", ")}; the table is config/workstation.ts)`),
                )
                .default([versions.cuda]),
            default: z.string().optional(),
            cudnn: z.boolean().default(false),
            cudnnVersion: z.string().regex(/^\d+\.\d+\.\d+\.\d+$/, "expected a cuDNN version such as \"9.8.0.87\"").default(versions.cudnn),
            nccl: z.boolean().default(false),
            ncclVersion: z.string().regex(/^\d+\.\d+\.\d+$/, "expected an NCCL version such as \"2.26.2\"").default(versions.nccl),
        })
        .prefault({}),
    /** NVIDIA's CUDA repository for Debian 12 (or a mirror of it): the driver with source `cuda-repo`, CUDA, cuDNN, NCCL, the container toolkit's CUDA side. */
    repository: httpUrl().default("https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64"),
    /** The exact set of fingerprints `<repository>/3bf863cc.pub` must hold (default: config/versions.ts aptKeys.cuda). */
    keyFingerprints: keyFingerprints.default([...versions.aptKeys.cuda.fingerprints]),
    /** sha256 of `<repository>/3bf863cc.pub`, checked before the key is used when set. */
    keySha256: sha256.optional(),
});

const containers = z.strictObject({
    ...toggle,
    docker: z
        .strictObject({
            /**
             * Opt-in: an exact upstream version of Debian 12's docker.io ("20.10.24": its Debian builds still move).
             * Unset, docker.io follows its line (config/versions.ts dockerIoLine) with the suite's security builds.
             */
            version: z.string().regex(/^\d+\.\d+\.\d+$/, "expected a docker.io upstream version such as \"20.10.24\"").optional(),
            dataRoot: managedPath.default("/var/lib/docker"),
            logMaxSize: z.string().regex(/^\d+[kmg]$/, "expected a size such as \"50m\"").default("50m"),
            logMaxFiles: z.number().int().min(1).max(100).default(5),
            cgroupDriver: z.enum(["systemd", "cgroupfs"]).default("systemd"),
        })
        .prefault({}),
    nvidiaToolkit: z
        .strictObject({
            enabled: z.boolean().default(true),
            version: z.string().regex(/^\d+\.\d+\.\d+$/).default(versions.nvidiaContainerToolkit),
            /** NVIDIA's container toolkit apt repository (or a mirror). */
            repository: httpUrl().default("https://nvidia.github.io/libnvidia-container/stable/deb"),
            /** The repository's signing key (NVIDIA's install guide: https://nvidia.github.io/libnvidia-container/gpgkey). */
            keyUrl: httpUrl().default(versions.aptKeys.nvidiaContainerToolkit.url),
            /** The exact set of fingerprints the key file must hold (default: config/versions.ts aptKeys.nvidiaContainerToolkit). */
            keyFingerprints: keyFingerprints.default([...versions.aptKeys.nvidiaContainerToolkit.fingerprints]),
            /** sha256 of the key file, checked before the key is used when set. */
            keySha256: sha256.optional(),
        })
        .prefault({}),
    apptainer: z
        .strictObject({
            /** Off by default: it needs the release's sha256, which only its publisher can give (see docs/gpu.md). */
            enabled: z.boolean().default(false),
            version: z.string().regex(/^\d+\.\d+\.\d+$/).default(versions.apptainer),
            /** sha256 of apptainer_<version>_amd64.deb from the release's sha256sums; required when enabled. */
            sha256: z.string().regex(/^[a-f0-9]{64}$/, "expected a sha256 hex digest").optional(),
            /** Where the .deb comes from; `{version}` is replaced. */
            url: httpUrl({ placeholders: ["{version}"] }).default("https://github.com/apptainer/apptainer/releases/download/v{version}/apptainer_{version}_amd64.deb"),
        })
        .prefault({}),
});

const slurmTime = z
    .string()
    .regex(
        /^(UNLIMITED|INFINITE|\d+|\d+:\d{2}(:\d{2})?|\d+-\d{1,2}(:\d{2}(:\d{2})?)?)$/,
        "expected a Slurm time limit such as \"UNLIMITED\", \"60\", \"4:00:00\" or \"2-00:00:00\"",
    );

const partition = z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, "expected a partition name: lowercase letters, digits, '-' and '_'"),
    /** Hosts in the partition; default every compute host. */
    hosts: z.array(hostname).min(1).optional(),
    default: z.boolean().default(false),
    maxTime: slurmTime.default("UNLIMITED"),
    defaultTime: slurmTime.optional(),
    maxNodes: z.number().int().min(1).optional(),
    priorityTier: z.number().int().min(1).max(65533).default(1),
});

const slurmName = (what: string) => z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, `expected ${what}: lowercase letters, digits, '-' and '_'`);

/** A Slurm accounting account: a node of the fair-share tree (`sacctmgr show assoc tree`). */
const slurmAccount = z.strictObject({
    name: slurmName("an account name"),
    /** The parent account; default `root`. */
    parent: slurmName("an account name").default("root"),
    /** Fair-share weight among its siblings. */
    fairshare: z.number().int().min(1).max(1000000).default(1),
    description: z
        .string()
        .regex(/^[A-Za-z0-9 ._-]{1,64}$/, "expected a short description: letters, digits, spaces, '.', '_' and '-'")
        .optional(),
});

/** A user's association: who may submit, to which account, with which QoS. */
const slurmUser = z.strictObject({
    /** The Unix user name (the same on every host). */
    name: slurmName("a Unix user name"),
    account: slurmName("an account name"),
    fairshare: z.number().int().min(1).max(1000000).default(1),
    /** QoS the user may use; default Slurm's own `normal`. */
    qos: z.array(slurmName("a QoS name")).min(1).default(["normal"]),
    /** Default the first of `qos`. */
    defaultQos: slurmName("a QoS name").optional(),
});

/** A trackable resource limit: `gres/gpu=1`, `cpu=8,mem=64G`. */
const tresLimit = z
    .string()
    .regex(/^[a-z]+(\/[a-z0-9_:]+)?=\d+[KMGT]?(,[a-z]+(\/[a-z0-9_:]+)?=\d+[KMGT]?)*$/, "expected TRES limits such as \"gres/gpu=1\" or \"cpu=8,mem=64G\"");

const slurmQos = z.strictObject({
    name: slurmName("a QoS name"),
    priority: z.number().int().min(0).max(1000000).default(0),
    /** At most this much at once per user, e.g. `gres/gpu=1`: further jobs wait with reason QOSMax...PerUser. */
    maxTresPerUser: tresLimit.optional(),
    maxJobsPerUser: z.number().int().min(1).optional(),
    maxSubmitJobsPerUser: z.number().int().min(1).optional(),
    maxWall: z
        .string()
        .regex(/^(\d+|\d+:\d{2}(:\d{2})?|\d+-\d{1,2}(:\d{2}(:\d{2})?)?)$/, "expected a Slurm time such as \"60\", \"4:00:00\" or \"2-00:00:00\"")
        .optional(),
});

const accountingOn = z.strictObject({
    enabled: z.literal(true),
    /** On `pulumi destroy`, keep the database (MariaDB, its data and the backups); default true: it is the cluster's history. */
    retain: z.boolean().default(true),
    /** The host that runs slurmdbd and MariaDB; default the controller. */
    host: hostname.optional(),
    dbdPort: port.default(6819),
    accounts: z.array(slurmAccount).default([]),
    users: z.array(slurmUser).default([]),
    /** QoS besides Slurm's `normal` (which always exists and is never removed). */
    qos: z.array(slurmQos).default([]),
    /** priority/multifactor weights: fair share against age, QoS, job size and partition. */
    priority: z
        .strictObject({
            weightFairshare: z.number().int().min(0).max(4294967295).default(10000),
            weightAge: z.number().int().min(0).max(4294967295).default(1000),
            weightQos: z.number().int().min(0).max(4294967295).default(2000),
            weightJobSize: z.number().int().min(0).max(4294967295).default(0),
            weightPartition: z.number().int().min(0).max(4294967295).default(0),
            /** How fast past usage is forgotten (Slurm time, e.g. `7-0`); `0`: never decay. */
            decayHalfLife: z
                .string()
                .regex(/^(\d+|\d+-\d{1,2}(:\d{2})?)$/, "expected a Slurm duration such as \"7-0\" (days-hours) or \"0\"")
                .default("7-0"),
            /** The age factor is full after this long pending. */
            maxAge: z
                .string()
                .regex(/^(\d+|\d+-\d{1,2}(:\d{2})?)$/, "expected a Slurm duration such as \"7-0\" (days-hours)")
                .default("7-0"),
        })
        .prefault({}),
    /** Nightly `mysqldump --single-transaction` of the accounting database (a systemd timer). */
    backup: z
        .strictObject({
            /** systemd OnCalendar expression. */
            onCalendar: z
                .string()
                .regex(/^[A-Za-z0-9*:., /~-]{1,64}$/, "expected a systemd calendar expression such as \"*-*-* 02:30:00\" or \"daily\"")
                .default("*-*-* 02:30:00"),
            /** Dumps kept; older ones are removed after each new one. */
            keep: z.number().int().min(1).max(365).default(7),
            dir: managedPath.default("/var/backups/aihpc-slurm-accounting"),
        })
        .prefault({}),
});

/** Off by default: MariaDB and slurmdbd on a host are worth having only where several people share the cluster. */
const accounting = z.discriminatedUnion("enabled", [accountingOn, z.strictObject({ enabled: z.literal(false).default(false) })]).default({ enabled: false });

const slurm = z.strictObject({
    ...toggle,
    clusterName: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, "expected a lowercase cluster name").default("aihpc"),
    partitions: z.array(partition).min(1).default([{ name: "gpu", default: true, maxTime: "UNLIMITED", priorityTier: 1 }]),
    /** Seconds between runs of the node health check. */
    healthCheckInterval: z.number().int().min(30).max(86400).default(300),
    /**
     * Seconds an apply waits for the jobs on a compute node removed from `hosts` (drained first, so no new job
     * starts there) before it gives up with an error and changes nothing else; 0: fail at once while jobs run.
     * Running jobs are never killed: slurmctld would kill a job whose node vanished from slurm.conf.
     */
    drainTimeout: z.number().int().min(0).max(7 * 86400).default(1800),
    slurmctldPort: port.default(6817),
    slurmdPort: port.default(6818),
    /** Track and confine jobs with cgroups (proctrack/cgroup, task/cgroup); off: linuxproc, no confinement. */
    cgroups: z.boolean().default(true),
    /** Memory kept out of each node's RealMemory for the OS (and so that rounding never drains a node). */
    memoryHeadroomMb: z.number().int().min(0).max(65536).default(512),
    /** GPU checks of the node health check: drain above this temperature (Celsius). */
    gpuMaxTemperature: z.number().int().min(50).max(110).default(90),
    /** Install Debian's NVML GRES plugin (contrib) on hosts with NVIDIA GPUs; gres.conf then adds `AutoDetect=nvml`. */
    nvmlAutoDetect: z.boolean().default(true),
    /** Accounting, fair share and QoS limits (slurmdbd + MariaDB); see the README's Slurm accounting section. */
    accounting,
    /**
     * Container jobs: Debian's rootless Podman on compute hosts, for the job template container.sbatch (the
     * container stays in the job's cgroup, sees only the GPUs Slurm granted, and ends with the job).
     */
    containerJobs: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
});

const monitoring = z.strictObject({
    ...toggle,
    nodeExporterPort: port.default(9100),
    prometheus: z
        .strictObject({
            port: port.default(9090),
            retentionDays: z.number().int().min(1).max(3650).default(15),
            scrapeInterval: z.string().regex(/^\d+[smh]$/, "expected a duration such as \"30s\"").default("30s"),
        })
        .prefault({}),
    alertmanager: z
        .strictObject({
            enabled: z.boolean().default(true),
            port: port.default(9093),
            /**
             * Where alerts go (a webhook receiver); without it Alertmanager only shows them. No credentials in it (they
             * would be in the plan, the state and a 0644 file): use webhookAuth and the secret aihpc:alertWebhookSecret.
             */
            webhookUrl: httpUrl().optional(),
            /** How Alertmanager authenticates to webhookUrl: a bearer token or basic auth, the token/password in aihpc:alertWebhookSecret. */
            webhookAuth: z.enum(["none", "bearer", "basic"]).default("none"),
            /** The user name for webhookAuth `basic`. */
            webhookUser: z.string().regex(/^[A-Za-z0-9._@+-]{1,128}$/, "expected a user name: letters, digits and . _ @ + -").optional(),
        })
        .prefault({}),
    grafana: z
        .strictObject({
            enabled: z.boolean().default(true),
            version: z.string().regex(/^\d+\.\d+\.\d+$/).default(versions.grafana),
            port: port.default(3000),
            /** Grafana's apt repository (Grafana is not in Debian); a local mirror of it works too. */
            aptRepository: httpUrl().default("https://apt.grafana.com"),
            /** The exact set of fingerprints `<aptRepository>/gpg.key` must hold (default: config/versions.ts aptKeys.grafana). */
            keyFingerprints: keyFingerprints.default([...versions.aptKeys.grafana.fingerprints]),
            /** sha256 of `<aptRepository>/gpg.key`, checked before the key is used when set. */
            keySha256: sha256.optional(),
        })
        .prefault({}),
    /**
     * GPU metrics: `auto` runs NVIDIA's dcgm-exporter (a container, so `containers` must be on) on hosts whose
     * gpus.model is a data-centre GPU, and the nvidia-smi textfile collector elsewhere (RTX cards, unknown model).
     */
    gpuExporter: z.enum(["auto", "dcgm", "nvidia-smi"]).default("auto"),
    /**
     * A host firewall (nftables, a table of its own) on every host: the monitoring ports (exporters,
     * Prometheus, Alertmanager, Grafana) answer only the cluster's hosts and these admin networks,
     * and reset every other connection. Other ports are left alone.
     */
    firewall: z
        .strictObject({
            enabled: z.boolean().default(true),
            /** Where admins reach Grafana and Prometheus from, e.g. ["192.168.10.0/24"]. */
            adminNetworks: z.array(ipNetwork).default([]),
        })
        .prefault({}),
    dcgmExporter: z
        .strictObject({
            /**
             * The image by digest, e.g. `nvcr.io/nvidia/k8s/dcgm-exporter:<tag>@sha256:<digest>` (tag: config/versions.ts).
             * Required with gpuExporter `dcgm`; with `auto`, dcgm-exporter runs only where one is set.
             */
            image: imageByDigest.optional(),
            port: port.default(9400),
        })
        .prefault({}),
});

const nfsOptions = (what: string, example: string) =>
    z.string().regex(/^[a-z0-9_]+(=[A-Za-z0-9_.:/-]+)?(,[a-z0-9_]+(=[A-Za-z0-9_.:/-]+)?)*$/, `expected ${what} as a comma-separated list such as "${example}" (no spaces or shell characters)`);

const nfsExport = z.strictObject({
    /** A short name for the share (its mount units and log lines). */
    name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "expected a short name: lowercase letters, digits and '-'"),
    /** The folder on the server. */
    path: managedPath,
    /** Where every host sees it (the server through a bind mount, so jobs find the same path everywhere). */
    mountPoint: managedPath,
    /** exports(5) options for the clients. */
    options: nfsOptions("exports(5) options", "rw,sync,no_subtree_check,root_squash").default("rw,sync,no_subtree_check,root_squash"),
    /** nfs(5) mount options on the clients; `hard` makes a job wait for a server that restarts instead of failing. */
    mountOptions: nfsOptions("nfs(5) mount options", "rw,hard,noatime,nfsvers=4.2").default("rw,hard,noatime,nfsvers=4.2"),
    /** Mode of the shared folder, owned by root and the research group (setgid: new files keep the group). */
    mode: z.string().regex(/^[0-7]{4}$/, "expected an octal mode such as \"2775\"").default("2775"),
});

const nfs = z.strictObject({
    enabled: z.boolean().default(false),
    /** On `pulumi destroy`, keep the NFS packages (the shared folders' contents are always kept). */
    retain: z.boolean().default(false),
    /** The host (by name) that exports the shares. */
    server: z.string().optional(),
    /** Networks allowed to mount (CIDR); default: each other host's address. */
    clients: z.array(ipNetwork).optional(),
    exports: z.array(nfsExport).default([
        { name: "datasets", path: "/srv/nfs/datasets", mountPoint: "/datasets", options: "rw,sync,no_subtree_check,root_squash", mountOptions: "rw,hard,noatime,nfsvers=4.2", mode: "2775" },
        { name: "scratch", path: "/srv/nfs/scratch", mountPoint: "/scratch", options: "rw,async,no_subtree_check,root_squash", mountOptions: "rw,hard,noatime,nfsvers=4.2", mode: "3775" },
    ]),
    /** Seconds an unused share stays mounted (systemd automount's TimeoutIdleSec; 0: never unmounted). */
    idleTimeout: z.number().int().min(0).max(86400).default(600),
});

const storage = z.strictObject({
    nfs: nfs.prefault({}),
});

const mlRuntime = z.strictObject({
    ...toggle,
    path: managedPath.default("/opt/aihpc/ml"),
    torch: z.string().regex(/^\d+\.\d+\.\d+$/).default(versions.torch),
    /**
     * The one package index pip installs the hashed lock from: default PyPI (`https://pypi.org/simple`), or a mirror
     * of PyPI such as an Artifact Registry Python remote repository (`https://REGION-python.pkg.dev/PROJECT/REPO/simple/`).
     */
    indexUrl: httpUrl().optional(),
    /** Refused: a second index lets a package of the same name shadow the locked one (dependency confusion). */
    extraIndexUrl: z
        .custom<never>(() => false, {
            error: "a second package index is refused: a package of the same name there could shadow the locked one (dependency confusion). Remove it; the lock comes from PyPI alone, and indexUrl may point at one mirror of PyPI",
        })
        .optional(),
    jupyterKernel: z.boolean().default(true),
});

const acceptance = z.strictObject({
    ...toggle,
    /** Pass when a measurement reaches this fraction of the GPU's peak. */
    minFractionOfPeak: z
        .strictObject({
            deviceBandwidth: z.number().gt(0).max(1).default(0.75),
            hostDeviceBandwidth: z.number().gt(0).max(1).default(0.6),
            gemm: z.number().gt(0).max(1).default(0.6),
        })
        .prefault({}),
});

export const workstationSchema = z.strictObject({
    /** `ssh` to each host, or `local`: the machine that runs Pulumi is the one host. */
    transport: z.enum(["ssh", "local"]).default("ssh"),
    /**
     * How `ssh` authenticates: `key`, the secret aihpc:sshPrivateKey (kept,
     * encrypted, in every command's state), or `agent`, the SSH agent of the
     * process that runs `pulumi up` (SSH_AUTH_SOCK): no key in the stack or its
     * state, and keys with a passphrase or on a security key work.
     */
    sshAuth: z.enum(["key", "agent"]).default("key"),
    /** HTTP proxy for apt on hosts without direct access to the Debian mirrors (no credentials: they would show in the plan). */
    aptProxy: httpUrl().optional(),
    /**
     * Hosts whose package repositories may be fetched over plain http:// (an explicit opt-in; https:// needs none).
     * Default Debian's CDN, whose archive apt verifies against debian-archive-keyring; a pip index gets no such check.
     */
    httpRepositoryHosts: z.array(networkHost).default(["deb.debian.org"]),
    hosts: z.array(hostSchema).min(1),
    base: base.prefault({}),
    nvidia: nvidia.prefault({}),
    containers: containers.prefault({}),
    slurm: slurm.prefault({}),
    monitoring: monitoring.prefault({}),
    storage: storage.prefault({}),
    mlRuntime: mlRuntime.prefault({}),
    acceptance: acceptance.prefault({}),
});

export type WorkstationConfig = z.infer<typeof workstationSchema>;
export type HostConfig = z.infer<typeof hostSchema>;
export type PartitionConfig = z.infer<typeof partition>;
export type BaseConfig = z.infer<typeof base>;
export type SlurmConfig = z.infer<typeof slurm>;
export type SlurmAccountingConfig = Extract<SlurmConfig["accounting"], { enabled: true }>;
export type MonitoringConfig = z.infer<typeof monitoring>;
export type NvidiaConfig = z.infer<typeof nvidia>;
export type ContainersConfig = z.infer<typeof containers>;
export type MlRuntimeConfig = z.infer<typeof mlRuntime>;
export type NfsConfig = z.infer<typeof nfs>;
export type NfsExportConfig = z.infer<typeof nfsExport>;
