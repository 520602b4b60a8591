// Invalid configs, each with the config path and the words its problem must
// show: the bad-config suite. tests/unit/config.test.ts checks each message;
// tests/unit/hardening.test.ts runs every one through the plan command too.
import { oneHost, twoHosts, withGcp } from "./fixtures";

export type Raw = Record<string, any>;

export function mutate(base: Raw, f: (c: Raw) => void): Raw {
    const c = structuredClone(base);
    f(c);
    return c;
}

/** [what, config, secret keys, expected path, expected words in the message] */
export type BadConfig = [string, Raw, string[], string, RegExp];

export const badConfigs: BadConfig[] = [
    ["a wrong type", mutate(oneHost(), (c) => (c.workstation.hosts[0].port = "22")), ["sshPrivateKey"], "aihpc:workstation.hosts[0].port", /expected a TCP port number, got "22"/],
    ["an unknown key", mutate(oneHost(), (c) => (c.workstation.hosts[0].adress = "x")), ["sshPrivateKey"], "aihpc:workstation.hosts[0].adress", /unknown key/],
    ["a port out of range", mutate(oneHost(), (c) => (c.workstation.hosts[0].port = 70000)), ["sshPrivateKey"], "aihpc:workstation.hosts[0].port", /from 1 to 65535.*70000/],
    ["a host listed twice", mutate(twoHosts(), (c) => (c.workstation.hosts[1].name = "ws1")), ["sshPrivateKey"], "aihpc:workstation.hosts[1].name", /'ws1' is listed twice/],
    [
        "a partition naming an unknown host",
        mutate(twoHosts(), (c) => (c.workstation.slurm = { partitions: [{ name: "gpu", hosts: ["ws1", "ws9"] }] })),
        ["sshPrivateKey"],
        "aihpc:workstation.slurm.partitions[0].hosts[1]",
        /unknown host 'ws9': expected one of ws1, ws2/,
    ],
    ["a secret given in plain text", oneHost(), [], "aihpc:sshPrivateKey", /expected a Pulumi secret.*--secret/],
    ["no SSH key for the ssh transport", mutate(oneHost(), (c) => delete c.sshPrivateKey), ["sshPrivateKey"], "aihpc:sshPrivateKey", /required with transport 'ssh'/],
    ["no hosts", mutate(oneHost(), (c) => (c.workstation.hosts = [])), ["sshPrivateKey"], "aihpc:workstation.hosts", /at least 1 item/],
    ["an unpinned host key", mutate(oneHost(), (c) => delete c.workstation.hosts[0].hostKey), ["sshPrivateKey"], "aihpc:workstation.hosts[0].hostKey", /pin the host's public key/],
    ["a malformed host key", mutate(oneHost(), (c) => (c.workstation.hosts[0].hostKey = "AAAA")), ["sshPrivateKey"], "aihpc:workstation.hosts[0].hostKey", /SSH public host key/],
    ["an unknown role", mutate(oneHost(), (c) => (c.workstation.hosts[0].roles = ["gpu-node"])), ["sshPrivateKey"], "aihpc:workstation.hosts[0].roles[0]", /one of "controller", "compute"/],
    ["no Slurm controller", mutate(twoHosts(), (c) => (c.workstation.hosts[0].roles = ["compute"])), ["sshPrivateKey"], "aihpc:workstation.hosts", /exactly one host with role 'controller', got 0/],
    ["two Slurm controllers", mutate(twoHosts(), (c) => (c.workstation.hosts[1].roles = ["controller"])), ["sshPrivateKey"], "aihpc:workstation.hosts", /got 2 \(ws1, ws2\)/],
    ["local transport with two hosts", mutate(twoHosts(), (c) => (c.workstation.transport = "local")), ["sshPrivateKey"], "aihpc:workstation.hosts", /exactly 1 host, got 2/],
    ["a driver branch Debian lacks", mutate(oneHost(), (c) => (c.workstation.nvidia = { driver: { branch: "570" } })), ["sshPrivateKey"], "aihpc:workstation.nvidia.driver.branch", /source 'cuda-repo'/],
    ["a default CUDA not installed", mutate(oneHost(), (c) => (c.workstation.nvidia = { cuda: { versions: ["12.8"], default: "12.4" } })), ["sshPrivateKey"], "aihpc:workstation.nvidia.cuda.default", /expected one of 12.8/],
    ["two default partitions", mutate(oneHost(), (c) => (c.workstation.slurm = { partitions: [{ name: "a", default: true }, { name: "b", default: true }] })), ["sshPrivateKey"], "aihpc:workstation.slurm.partitions", /at most one partition/],
    ["clashing monitoring ports", mutate(oneHost(), (c) => (c.workstation.monitoring = { grafana: { port: 9090 } })), ["sshPrivateKey"], "aihpc:workstation.monitoring.grafana.port", /9090 is already used by monitoring.prometheus.port/],
    ["an apt proxy that is not a URL", mutate(oneHost(), (c) => (c.workstation.aptProxy = "proxy:3128")), ["sshPrivateKey"], "aihpc:workstation.aptProxy", /URL/],
    ["a typo in a top-level key", mutate(oneHost(), (c) => (c.worksation = {})), ["sshPrivateKey"], "aihpc:worksation", /unknown key/],
    ["a structured key that is not an object", mutate(oneHost(), (c) => (c.workstation = "ws1")), ["sshPrivateKey"], "aihpc:workstation", /expected an object.*got "ws1"/],
    ["a structured key marked secret", oneHost(), ["sshPrivateKey", "workstation"], "aihpc:workstation", /keep secrets in their own keys/],
    ["a zone outside the region", mutate(withGcp(), (c) => (c.gcp.zone = "us-central1-a")), ["sshPrivateKey"], "aihpc:gcp.zone", /not in region 'europe-west4'/],
    ["a bad project id", mutate(withGcp(), (c) => (c.gcp.project = "My_Project")), ["sshPrivateKey"], "aihpc:gcp.project", /Google Cloud project id/],
    ["a malformed billing account", mutate(withGcp(), (c) => (c.gcp.budget.billingAccount = "123")), ["sshPrivateKey"], "aihpc:gcp.budget.billingAccount", /billing account id/],
    ["an upper-case label key", mutate(withGcp(), (c) => (c.gcp.labels = { Team: "x" })), ["sshPrivateKey"], "aihpc:gcp.labels.Team", /label key/],
];

// ---- hardening (issue 11): hostile values of every kind, for every setting of that kind ----

/** Every setting that takes a package repository or index URL (path under aihpc:, and how to set it). */
export const URL_SETTINGS: [string, (c: Raw, v: string) => void][] = [
    ["workstation.aptProxy", (c, v) => (c.workstation.aptProxy = v)],
    ["workstation.base.aptMirror", (c, v) => (c.workstation.base = { aptMirror: v })],
    ["workstation.base.aptSecurityMirror", (c, v) => (c.workstation.base = { aptSecurityMirror: v })],
    ["workstation.nvidia.repository", (c, v) => (c.workstation.nvidia = { repository: v })],
    ["workstation.containers.nvidiaToolkit.repository", (c, v) => (c.workstation.containers = { nvidiaToolkit: { repository: v } })],
    ["workstation.containers.apptainer.url", (c, v) => (c.workstation.containers = { apptainer: { url: v } })],
    ["workstation.monitoring.grafana.aptRepository", (c, v) => (c.workstation.monitoring = { grafana: { aptRepository: v } })],
    ["workstation.monitoring.alertmanager.webhookUrl", (c, v) => (c.workstation.monitoring = { alertmanager: { webhookUrl: v } })],
    ["workstation.mlRuntime.indexUrl", (c, v) => (c.workstation.mlRuntime = { indexUrl: v })],
    ["gcp.hybrid.gcloudCli.aptRepository", (c, v) => (c.gcp.hybrid = { gcloudCli: { aptRepository: v } })],
];

/** Values no URL setting may take: what breaks out of a quoted apt value, adds a second URI, or is no http(s) URL. */
export const BAD_URLS: string[] = [
    'http://proxy.example:3128/";APT::Update::Pre-Invoke {"id";};//',
    "https://mirror.example/debian https://evil.example/debian",
    "https://mirror.example/debian\nURIs: https://evil.example/debian",
    "https://mirror.example/debian;touch${IFS}/x",
    "https://mirror.example/'debian'",
    "https://mirror.example/{x}",
    "https://mirror.example/a/../b",
    "https://mirror.example/debian?suite=x",
    "https://mirror.example/debian#x",
    "https://mirror.example/debian\\x",
    "ftp://mirror.example/debian",
    "file:///srv/mirror",
    "mirror.example/debian",
    "https://mirr_or.example/debian",
    "https://bob:hunter2@mirror.example/debian",
    "https://bob:hunter2/x@mirror.example/debian",
    "https://mirror.example/debian%0aURIs:%20x",
];

/** Every setting that names a folder the stack creates, owns and may remove. */
export const PATH_SETTINGS: [string, (c: Raw, v: string) => void][] = [
    ["workstation.mlRuntime.path", (c, v) => (c.workstation.mlRuntime = { path: v })],
    ["workstation.containers.docker.dataRoot", (c, v) => (c.workstation.containers = { docker: { dataRoot: v } })],
    ["gcp.workstationIdentity.certDir", (c, v) => (c.gcp.workstationIdentity = { certDir: v })],
    ["gcp.hybrid.data.datasetsPath", (c, v) => (c.gcp.hybrid = { data: { datasetsPath: v } })],
    ["gcp.hybrid.data.checkpointsPath", (c, v) => (c.gcp.hybrid = { data: { checkpointsPath: v } })],
];

export const BAD_PATHS: string[] = ["/", "/var/lib/aihpc/ml", "/home", "/etc", "/etc/", "/var", "/var/lib", "/usr/local", "/opt", "/srv", "/root", "/boot/x", "/tmp/x", "/proc/1", "/home/alice", "/opt/../etc", "/opt/./x", "opt/aihpc", "/opt/my venv", "/opt/x;rm", "/opt/$(id)", "/lib64", "/etc/aihpc", "/var/lib/aihpc"];

const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIhUeXXbexzZoiLqPefvDpgz4u38N8nv0gISGcaWzUs1";

function onGcp(f: (c: Raw) => void): Raw {
    return mutate(withGcp(), (c) => {
        // The supply-chain pins another part of the schema requires are not what these cases test.
        c.gcp.hybrid = { gcloudCli: { install: false }, image: { enabled: false } };
        f(c);
    });
}

function setting(settingFn: (c: Raw, v: string) => void, path: string, v: string): Raw {
    return path.startsWith("gcp.")
        ? onGcp((c) => {
              settingFn(c, v);
              if (c.gcp.hybrid.gcloudCli === undefined) c.gcp.hybrid.gcloudCli = { install: false };
              else if (c.gcp.hybrid.gcloudCli.install === undefined) c.gcp.hybrid.gcloudCli.install = false;
              c.gcp.hybrid.image ??= { enabled: false };
          })
        : mutate(oneHost(), (c) => settingFn(c, v));
}

export const hardeningConfigs: BadConfig[] = [
    ...URL_SETTINGS.flatMap(([path, set]) =>
        BAD_URLS.map(
            (u): BadConfig => [`${path} = ${JSON.stringify(u)}`, setting(set, path, u), ["sshPrivateKey"], `aihpc:${path}`, /expected an http:\/\/ or https:\/\/ URL/],
        ),
    ),
    ...URL_SETTINGS.filter(([p]) => !/aptProxy|webhookUrl/.test(p)).map(
        ([path, set]): BadConfig => [`${path} over plain http without opt-in`, setting(set, path, "http://mirror.lab.example/repo"), ["sshPrivateKey"], `aihpc:${path}`, /plain http:\/\/.*use https:\/\/, or opt in .*httpRepositoryHosts: \["deb\.debian\.org", "mirror\.lab\.example"\]/],
    ),
    ...PATH_SETTINGS.flatMap(([path, set]) =>
        BAD_PATHS.map((p): BadConfig => [`${path} = ${JSON.stringify(p)}`, setting(set, path, p), ["sshPrivateKey"], `aihpc:${path}`, /expected an absolute folder of the stack's own/]),
    ),
    ...["/dev/../etc/shadow", "/etc/passwd", "dev/nvidia0", "/dev/nvidia0 /dev/sda"].map(
        (d): BadConfig => [`gpus.devices = ${JSON.stringify(d)}`, mutate(oneHost(), (c) => (c.workstation.hosts[0].gpus = { count: 1, devices: [d] })), ["sshPrivateKey"], "aihpc:workstation.hosts[0].gpus.devices[0]", /device file under \/dev/],
    ),
    ...(
        [
            ["a second key after a newline", `${ED} alice\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9mZmxpbmUgdGVzdCBrZXkgdHdvIG5vdCByZWFsISEh mallory`, /more than one line/],
            ["a forced command", `command="/bin/sh" ${ED}`, /options .*allowKeyOptions: true/],
            ["a from= restriction", `from="*" ${ED}`, /options .*allowKeyOptions: true/],
            ["garbage base64", "ssh-ed25519 AAAA####", /not base64/],
            ["a key of another type than its label", ED.replace("ssh-ed25519", "ecdsa-sha2-nistp256"), /label says 'ecdsa-sha2-nistp256' but the key inside is 'ssh-ed25519'/],
            ["a DSA key", "ssh-dss AAAAB3NzaC1kc3MAAACBAP alice", /not a supported key type/],
            ["an empty key", "", /is empty/],
        ] as [string, string, RegExp][]
    ).map(([what, key, re]): BadConfig => [`users[].sshKeys: ${what}`, mutate(oneHost(), (c) => (c.workstation.base = { users: [{ name: "alice", sshKeys: [key] }] })), ["sshPrivateKey"], "aihpc:workstation.base.users[0].sshKeys[0]", re]),
    ...(
        [
            ["garbage base64", "ssh-ed25519 AAAAgarbage!!", /not base64/],
            ["base64 of another type", ED.replace("ssh-ed25519", "ssh-rsa"), /label says 'ssh-rsa' but the key inside is 'ssh-ed25519'/],
            ["a truncated key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9mZmxpbmUgdGVzdCBrZXkgb25lIG5vdCByZWFsIQ==", /cut short/],
            ["options", `no-pty ${ED}`, /does not start with a key type/],
            ["two lines", `${ED}\n${ED}`, /more than one line/],
        ] as [string, string, RegExp][]
    ).map(([what, key, re]): BadConfig => [`hosts[].hostKey: ${what}`, mutate(oneHost(), (c) => (c.workstation.hosts[0].hostKey = key)), ["sshPrivateKey"], "aihpc:workstation.hosts[0].hostKey", re]),
    ["an unknown region", onGcp((c) => (c.gcp.region = "europe-west99")), ["sshPrivateKey"], "aihpc:gcp.region", /unknown Google Cloud region 'europe-west99': expected one of europe-central2,/],
    ["a made-up region", onGcp((c) => (c.gcp.region = "mars-north1")), ["sshPrivateKey"], "aihpc:gcp.region", /unknown Google Cloud region 'mars-north1'/],
    ["a zone the region lacks", onGcp((c) => (c.gcp.zone = "europe-west4-z")), ["sshPrivateKey"], "aihpc:gcp.zone", /region 'europe-west4' has no zone 'europe-west4-z': expected one of europe-west4-a, europe-west4-b, europe-west4-c/],
    ["a region without zone a and no zone", onGcp((c) => (c.gcp.region = "us-east1")), ["sshPrivateKey"], "aihpc:gcp.zone", /has no zone 'us-east1-a'.*us-east1-b/],
    ["an unknown bucket location", onGcp((c) => (c.gcp.buckets = { location: "MARS" })), ["sshPrivateKey"], "aihpc:gcp.buckets.location", /unknown bucket location 'MARS'/],
    ["an unknown currency", onGcp((c) => (c.gcp.budget.currency = "XYZ")), ["sshPrivateKey"], "aihpc:gcp.budget.currency", /currency Cloud Billing accounts use.*got "XYZ"/],
    ["a lower-case currency", onGcp((c) => (c.gcp.budget.currency = "usd")), ["sshPrivateKey"], "aihpc:gcp.budget.currency", /currency/],
    ["a branch that is no branch name", onGcp((c) => (c.gcp.github.deployBranch = "main' || true || '")), ["sshPrivateKey"], "aihpc:gcp.github.deployBranch", /branch name/],
    ...["pool.ntp.org time.example", "*", "$(reboot)", "ntp.example;reboot", "-n"].map(
        (s): BadConfig => [`ntpServers ${JSON.stringify(s)}`, mutate(oneHost(), (c) => (c.workstation.base = { ntpServers: [s] })), ["sshPrivateKey"], "aihpc:workstation.base.ntpServers[0]", /expected a host name or IPv4 address/],
    ),
    ...["../../etc/shadow", "Europe/../../x", "Europe/Berlin Asia/Tokyo", ""].map(
        (tz): BadConfig => [`timezone ${JSON.stringify(tz)}`, mutate(oneHost(), (c) => (c.workstation.base = { timezone: tz })), ["sshPrivateKey"], "aihpc:workstation.base.timezone", /expected a time zone name/],
    ),
    [
        "Apptainer without its sha256, NVIDIA off",
        mutate(oneHost(), (c) => Object.assign(c.workstation, { nvidia: { enabled: false }, containers: { apptainer: { enabled: true } } })),
        ["sshPrivateKey"],
        "aihpc:workstation.containers.apptainer.sha256",
        /required when Apptainer is enabled/,
    ],
    ...["NVIDIA H100\nEXTRA", "H100'; reboot #", "*"].map(
        (m): BadConfig => [`gpus.model ${JSON.stringify(m)}`, mutate(oneHost(), (c) => (c.workstation.hosts[0].gpus = { count: 1, model: m })), ["sshPrivateKey"], "aihpc:workstation.hosts[0].gpus.model", /expected a GPU name as nvidia-smi prints it/],
    ),
    ["the ML venv inside Docker's data root", mutate(oneHost(), (c) => (c.workstation.mlRuntime = { path: "/var/lib/docker/ml" })), ["sshPrivateKey"], "aihpc:workstation.mlRuntime.path", /inside workstation\.containers\.docker\.dataRoot \("\/var\/lib\/docker"\): every folder the stack manages needs a place of its own/],
    ["the credentials folder the same as the venv", onGcp((c) => (c.gcp.workstationIdentity = { certDir: "/opt/aihpc/ml" })), ["sshPrivateKey"], "aihpc:gcp.workstationIdentity.certDir", /is also workstation\.mlRuntime\.path/],
    ["a torch version without a lock", mutate(oneHost(), (c) => (c.workstation.mlRuntime = { torch: "2.0.0" })), ["sshPrivateKey"], "aihpc:workstation.mlRuntime.torch", /no committed lock for torch 2\.0\.0 .*tools\/ml-lock\.sh runtime 2\.0\.0/],
    ["a CUDA version NVIDIA does not publish", mutate(oneHost(), (c) => (c.workstation.nvidia = { cuda: { versions: ["13.5"] } })), ["sshPrivateKey"], "aihpc:workstation.nvidia.cuda.versions[0]", /CUDA version NVIDIA's Debian 12 repository publishes.*got "13\.5"/],
];
