import { z } from "zod";
import { containersProblems } from "../components/workstation/containers/problems";
import { mlRuntimeProblems } from "../components/workstation/ml-runtime/problems";
import { monitoringProblems } from "../components/workstation/monitoring/problems";
import { nvidiaProblems } from "../components/workstation/nvidia/problems";
import { slurmProblems } from "../components/workstation/slurm/problems";
import { storageProblems } from "../components/workstation/storage/problems";
import { sshdProblems } from "../components/workstation/base-system/sshd";
import { urlHost } from "./formats";
import { acceleratorsFor, acceleratorZones, bucketMultiRegions, GPU_MACHINE_TYPES, GcpConfig, gcpRegions, gcpSchema, gcpZone, n1MaxCount } from "./gcp";
import { cloudNodesProblems, cloudNodesSchema } from "./cloud-nodes";
import { HybridConfig, hybridProblems, hybridSchema, resolveHybrid, validatedHybrid, workstationCuda } from "./hybrid";
import { SecretValue, UNDECRYPTED_SECRET } from "./secret";
import { parseSshPrivateKey } from "./ssh-private-key";
import { workstationSchema } from "./workstation";

const secret = (key: string) =>
    z.custom<SecretValue>((v) => v instanceof SecretValue, {
        error: `expected a Pulumi secret, got plain text: set it with \`pulumi config set --secret aihpc:${key} < FILE\``,
    });

/** The private key, checked and in the form the command provider gets (config/ssh-private-key.ts); not decrypted (the offline plan): as is. */
const sshPrivateKey = secret("sshPrivateKey").transform((s, ctx) => {
    if (s.value === undefined || s.value === UNDECRYPTED_SECRET) return s;
    const r = parseSshPrivateKey(s.value);
    if ("problem" in r) {
        ctx.addIssue({ code: "custom", message: r.problem });
        return z.NEVER;
    }
    return new SecretValue(r.key.pem);
});

/**
 * The whole `aihpc:` namespace of a stack file, one key per field. Secrets have
 * keys of their own: Pulumi marks a whole structured key secret when any part
 * of it is, which would hide the rest of the plan.
 */
const shape = z.strictObject({
    workstation: workstationSchema,
    /** Present: the `gcp` stack (cloud side and bridge); absent: workstations only. */
    gcp: gcpSchema.extend({ hybrid: hybridSchema.prefault({}), cloudNodes: cloudNodesSchema.prefault({}) }).optional(),
    /** Private key for every `ssh` host (OpenSSH or PEM text). */
    sshPrivateKey: sshPrivateKey.optional(),
    /** `user:password` for workstation.aptProxy: written to /etc/apt/auth.conf.d (0600) from stdin, never in a command. */
    aptProxyCredentials: secret("aptProxyCredentials").optional(),
    /** The bearer token or basic-auth password of monitoring.alertmanager.webhookUrl (webhookAuth): a 0600 file Alertmanager reads. */
    alertWebhookSecret: secret("alertWebhookSecret").optional(),
});

type Ctx = z.core.$RefinementCtx<z.output<typeof shape>>;

function issue(ctx: Ctx, path: (string | number)[], message: string): void {
    ctx.addIssue({ code: "custom", path, message });
}

function checkHosts(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const ws = cfg.workstation;
    const seen = new Map<string, number>();
    const endpoints = new Map<string, number>();
    ws.hosts.forEach((h, i) => {
        const first = seen.get(h.name);
        if (first !== undefined) {
            issue(ctx, ["workstation", "hosts", i, "name"], `host '${h.name}' is listed twice (also hosts[${first}]); host names must be unique`);
        } else {
            seen.set(h.name, i);
        }
        if (h.address !== undefined) {
            const ep = `${h.address}:${h.port}`;
            const other = endpoints.get(ep);
            if (other !== undefined) {
                issue(ctx, ["workstation", "hosts", i, "address"], `${ep} is already hosts[${other}]; each host needs its own address or port`);
            } else {
                endpoints.set(ep, i);
            }
        }
        if (ws.transport === "ssh") {
            if (h.address === undefined) {
                issue(ctx, ["workstation", "hosts", i, "address"], "required with transport 'ssh': the host's IPv4 address or DNS name");
            }
            if (h.hostKey === undefined) {
                issue(ctx, ["workstation", "hosts", i, "hostKey"], "required with transport 'ssh': pin the host's public key (`ssh-keyscan -t ed25519 HOST`)");
            }
        }
    });
    if (ws.transport === "local" && ws.hosts.length !== 1) {
        issue(ctx, ["workstation", "hosts"], `transport 'local' provisions the machine that runs Pulumi: expected exactly 1 host, got ${ws.hosts.length}`);
    }
    if (ws.transport === "ssh" && ws.sshAuth === "key" && cfg.sshPrivateKey === undefined) {
        issue(ctx, ["sshPrivateKey"], "required with transport 'ssh': `pulumi config set --secret aihpc:sshPrivateKey < ~/.ssh/id_ed25519` (or workstation.sshAuth: agent)");
    }
    if (ws.sshAuth === "agent" && cfg.sshPrivateKey !== undefined) {
        issue(ctx, ["sshPrivateKey"], "set, but workstation.sshAuth is 'agent', which never reads it: remove it (`pulumi config rm aihpc:sshPrivateKey`) or set sshAuth: key");
    }
    if (ws.sshAuth === "agent" && ws.transport !== "ssh") {
        issue(ctx, ["workstation", "sshAuth"], `'agent' is for transport 'ssh'; transport '${ws.transport}' runs commands on this machine without SSH: remove sshAuth`);
    }
}

/**
 * Folders the stack creates, owns and removes on destroy (each already checked
 * against the system folders, config/formats.ts): no two may be the same or one
 * inside another, or one part's teardown would remove the other's files.
 */
function checkManagedFolders(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const ws = cfg.workstation;
    const folders: [string[], string][] = [];
    if (ws.mlRuntime.enabled) folders.push([["workstation", "mlRuntime", "path"], ws.mlRuntime.path]);
    if (ws.containers.enabled) folders.push([["workstation", "containers", "docker", "dataRoot"], ws.containers.docker.dataRoot]);
    if (cfg.gcp?.workstationIdentity.enabled) folders.push([["gcp", "workstationIdentity", "certDir"], cfg.gcp.workstationIdentity.certDir]);
    if (cfg.gcp) {
        const h = resolveHybrid(hybridContext(cfg));
        if (h.enabled && h.data.mode !== "off") {
            folders.push([["gcp", "hybrid", "data", "datasetsPath"], h.data.datasetsPath], [["gcp", "hybrid", "data", "checkpointsPath"], h.data.checkpointsPath]);
        }
    }
    folders.forEach(([path, dir], i) => {
        for (const [otherPath, other] of folders.slice(0, i)) {
            if (typeof dir !== "string" || typeof other !== "string") continue;
            // Reported at the folder that is inside the other (or the later one of two equal ones).
            const [at, inner, outer, outerPath] = other.startsWith(`${dir}/`) ? [otherPath, other, dir, path] : [path, dir, other, otherPath];
            const how = inner === outer ? "is also" : inner.startsWith(`${outer}/`) ? "is inside" : undefined;
            if (how) {
                issue(ctx, at, `"${inner}" ${how} ${outerPath.join(".")} ("${outer}"): every folder the stack manages needs a place of its own (neither inside another), or one part's teardown would remove the other's files`);
            }
        }
    });
}

/**
 * Each workstation component's own rules (components/workstation/<name>/problems.ts),
 * reported under aihpc:workstation: the one home of each rule.
 */
const componentProblems = [slurmProblems, nvidiaProblems, containersProblems, monitoringProblems, sshdProblems, mlRuntimeProblems, storageProblems];

function checkComponents(cfg: z.output<typeof shape>, ctx: Ctx): void {
    for (const problems of componentProblems) for (const [path, message] of problems(cfg.workstation)) issue(ctx, ["workstation", ...path], message);
}

/**
 * Every URL a package repository or index is fetched from: plain http:// only
 * for hosts listed in workstation.httpRepositoryHosts (an explicit opt-in).
 * Proxies and webhooks are not repositories.
 */
function checkRepositories(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const ws = cfg.workstation;
    const urls: [(string | number)[], string | undefined][] = [
        [["workstation", "base", "aptMirror"], ws.base.aptMirror],
        [["workstation", "base", "aptSecurityMirror"], ws.base.aptSecurityMirror],
        [["workstation", "nvidia", "repository"], ws.nvidia.repository],
        [["workstation", "containers", "nvidiaToolkit", "repository"], ws.containers.nvidiaToolkit.repository],
        [["workstation", "containers", "nvidiaToolkit", "keyUrl"], ws.containers.nvidiaToolkit.keyUrl],
        [["workstation", "containers", "apptainer", "url"], ws.containers.apptainer.url],
        [["workstation", "monitoring", "grafana", "aptRepository"], ws.monitoring.grafana.aptRepository],
        [["workstation", "mlRuntime", "indexUrl"], ws.mlRuntime.indexUrl],
        [["gcp", "hybrid", "gcloudCli", "aptRepository"], cfg.gcp?.hybrid.gcloudCli.aptRepository],
    ];
    const allowed = new Set(ws.httpRepositoryHosts.map((h) => h.toLowerCase()));
    for (const [path, url] of urls) {
        if (typeof url !== "string" || !url.startsWith("http://")) continue;
        const host = urlHost(url);
        if (allowed.has(host)) continue;
        issue(
            ctx,
            path,
            `${JSON.stringify(url)} is plain http://, so what it serves can be read and changed on the way: use https://, or opt in for this host with workstation.httpRepositoryHosts: [${[...allowed, host].map((h) => JSON.stringify(h)).join(", ")}]`,
        );
    }
}

function checkGcp(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const g = cfg.gcp;
    if (!g) return;
    const zones = gcpRegions[g.region];
    if (zones === undefined) {
        const family = g.region.split("-")[0];
        const near = Object.keys(gcpRegions).filter((r) => r.startsWith(`${family}-`));
        issue(ctx, ["gcp", "region"], `unknown Google Cloud region '${g.region}': expected ${near.length ? `one of ${near.join(", ")}` : `a region such as europe-west4 or us-central1 (${Object.keys(gcpRegions).length} known, in config/gcp.ts)`}`);
    } else if (g.zone !== undefined && !g.zone.startsWith(`${g.region}-`)) {
        issue(ctx, ["gcp", "zone"], `zone '${g.zone}' is not in region '${g.region}': expected one of ${zones.map((z) => `${g.region}-${z}`).join(", ")}`);
    } else if (g.zone !== undefined && !zones.includes(g.zone.slice(g.region.length + 1))) {
        issue(ctx, ["gcp", "zone"], `region '${g.region}' has no zone '${g.zone}': expected one of ${zones.map((z) => `${g.region}-${z}`).join(", ")}`);
    } else if (g.zone === undefined && !zones.includes("a")) {
        issue(ctx, ["gcp", "zone"], `region '${g.region}' has no zone '${g.region}-a' (the default): set gcp.zone to one of ${zones.map((z) => `${g.region}-${z}`).join(", ")}`);
    }
    const loc = g.buckets.location;
    if (loc !== undefined && !bucketMultiRegions.includes(loc.toUpperCase()) && gcpRegions[loc.toLowerCase()] === undefined) {
        issue(ctx, ["gcp", "buckets", "location"], `unknown bucket location '${loc}': expected a multi-region or dual-region (${bucketMultiRegions.join(", ")}) or a region such as ${g.region} (config/gcp.ts)`);
    }
    const wb = g.vertex.workbench;
    if (wb.enabled) checkWorkbench(g, ctx);
    if (wb.enabled && !g.network.enabled) {
        issue(ctx, ["gcp", "network", "enabled"], "the Workbench instance has no public IP and runs in the stack's VPC: keep gcp.network.enabled on, or turn gcp.vertex.workbench.enabled off");
    }
    const t = g.budget.thresholds;
    const dup = t.find((x, i) => t.indexOf(x) !== i);
    if (dup !== undefined) {
        issue(ctx, ["gcp", "budget", "thresholds"], `threshold ${dup} is listed twice`);
    }
    for (const [id, s] of Object.entries(g.secrets)) {
        if (s.accessors.includes("workbench") && !wb.enabled) {
            issue(ctx, ["gcp", "secrets", id, "accessors"], "'workbench' has no service account while gcp.vertex.workbench.enabled is off");
        }
        if (new Set(s.accessors).size !== s.accessors.length) {
            issue(ctx, ["gcp", "secrets", id, "accessors"], "an accessor is listed twice");
        }
    }
    if (g.artifactRegistry.remoteCache && !g.artifactRegistry.enabled) {
        issue(ctx, ["gcp", "artifactRegistry", "remoteCache"], "the Docker Hub cache is part of the Artifact Registry component: turn gcp.artifactRegistry.enabled on, or remoteCache off");
    }
    if (g.github) {
        const owner = g.github.repository.split("/")[0];
        if (g.github.repositoryId === g.github.ownerId) {
            issue(ctx, ["gcp", "github", "ownerId"], `the owner id equals the repository id (${g.github.ownerId}): the owner id is the numeric id of '${owner}' (gh api users/${owner} --jq .id)`);
        }
    }
}

/** Machine type, accelerator and zone must fit together: Compute Engine refuses the instance otherwise, after minutes. */
function checkWorkbench(g: GcpConfig, ctx: Ctx): void {
    const wb = g.vertex.workbench;
    const path = ["gcp", "vertex", "workbench"];
    const fit = acceleratorsFor(wb.machineType);
    const acc = wb.accelerator;
    if (!acc) {
        if (fit.builtIn) {
            issue(ctx, [...path, "accelerator"], `machine type '${wb.machineType}' comes with ${fit.types.join(" or ")}${fit.counts.length ? ` x${fit.counts[0]}` : ""}: set accelerator to match it`);
        }
        return;
    }
    if (fit.types.length === 0) {
        issue(ctx, [...path, "accelerator", "type"], `machine type '${wb.machineType}' takes no GPU: use ${GPU_MACHINE_TYPES}`);
        return;
    }
    if (!fit.types.includes(acc.type)) {
        issue(ctx, [...path, "accelerator", "type"], `${acc.type} is not available on machine type '${wb.machineType}': expected ${fit.types.join(" or ")}`);
        return;
    }
    if (fit.builtIn) {
        if (fit.counts.length === 0) {
            issue(ctx, [...path, "machineType"], `unknown ${wb.machineType.split("-")[0]} machine type '${wb.machineType}'`);
        } else if (!fit.counts.includes(acc.count)) {
            issue(ctx, [...path, "accelerator", "count"], `machine type '${wb.machineType}' has ${fit.counts[0]} ${acc.type}, got count ${acc.count}`);
        }
    } else {
        const max = n1MaxCount[acc.type] ?? 4;
        if (acc.count > max) {
            issue(ctx, [...path, "accelerator", "count"], `N1 machines take at most ${max} ${acc.type}, got ${acc.count}`);
        }
    }
    const zones = acceleratorZones[g.region];
    const zone = gcpZone(g);
    if (zones?.[acc.type] && !zones[acc.type]!.includes(zone.slice(g.region.length + 1))) {
        const offered = (zones[acc.type] ?? []).map((z) => `${g.region}-${z}`);
        issue(
            ctx,
            ["gcp", g.zone === undefined ? "region" : "zone"],
            `${acc.type} is not offered in zone '${zone}'${g.zone === undefined ? " (the default zone)" : ""}: ${offered.length ? `use gcp.zone ${offered.join(" or ")}` : `region '${g.region}' has none; pick another accelerator or region`}`,
        );
    }
}

function hybridContext(cfg: z.output<typeof shape>) {
    const g = cfg.gcp!;
    const ws = cfg.workstation;
    return {
        hybrid: g.hybrid,
        hostNames: ws.hosts.map((h) => h.name),
        cudaVersion: workstationCuda(ws.nvidia),
        torch: ws.mlRuntime.torch,
        artifactRegistry: g.artifactRegistry.enabled,
        buckets: { datasets: g.buckets.datasets.enabled, checkpoints: g.buckets.checkpoints.enabled },
        workstationIdentity: g.workstationIdentity.enabled,
    };
}

/** The hybrid bridge against the rest of the stack (config/hybrid.ts). */
/** Per-user roles name research users the workstation has (their certificates come from there). */
function checkUserRoles(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const roles = cfg.gcp?.workstationIdentity.userRoles ?? {};
    const users = new Set(cfg.workstation.base.enabled ? cfg.workstation.base.users.map((u) => u.name) : []);
    for (const [user, list] of Object.entries(roles)) {
        const at = ["gcp", "workstationIdentity", "userRoles", user];
        if (!users.has(user)) issue(ctx, at, `'${user}' is not a research user: expected one of workstation.base.users (${[...users].join(", ") || "none"})`);
        for (const [i, role] of list.entries()) {
            if (["roles/owner", "roles/editor", "roles/viewer"].includes(role)) issue(ctx, [...at, i], `${role} is a basic role: grant a predefined role that covers only what is needed`);
        }
    }
}

function checkHybrid(cfg: z.output<typeof shape>, ctx: Ctx): void {
    if (!cfg.gcp) return;
    for (const [path, message] of hybridProblems(hybridContext(cfg))) {
        issue(ctx, ["gcp", "hybrid", ...path], message);
    }
}

/** The cloud partition against the rest of the stack (config/cloud-nodes.ts). */
function checkCloudNodes(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const g = cfg.gcp;
    if (!g) return;
    const ws = cfg.workstation;
    const problems = cloudNodesProblems({
        cloudNodes: g.cloudNodes,
        region: g.region,
        zone: gcpZone(g),
        workstationPartitions: ws.slurm.partitions.map((p) => p.name),
        network: g.network.enabled,
        workstationIdentity: g.workstationIdentity.enabled,
        slurm: ws.slurm.enabled,
        subnetCidr: g.network.subnetCidr,
        workstationHosts: ws.hosts.map((h) => ({ name: h.name, roles: h.roles, address: h.address })),
    });
    for (const [path, message] of problems) issue(ctx, ["gcp", "cloudNodes", ...path], message);
}

/** `gcp.hybrid` with its toggles decided (undefined without gcp). */
export function hybridOf(cfg: StackConfig): HybridConfig | undefined {
    return cfg.gcp ? validatedHybrid(resolveHybrid(hybridContext(cfg))) : undefined;
}

/**
 * Secret keys belong to a setting: refused without it, required with it, and
 * checked for a form the file they are written to can hold. Messages never
 * show a secret's value (the offline plan does not even decrypt it).
 */
function checkSecrets(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const ws = cfg.workstation;
    const cred = cfg.aptProxyCredentials;
    if (cred !== undefined && ws.aptProxy === undefined) {
        issue(ctx, ["aptProxyCredentials"], "set, but workstation.aptProxy is not: remove the secret (`pulumi config rm aihpc:aptProxyCredentials`) or set the proxy");
    }
    // apt's auth.conf separates tokens by white space: none may be in the user or the password.
    if (cred?.value !== undefined && !/^[^\s:]+:\S+$/.test(cred.value)) {
        issue(ctx, ["aptProxyCredentials"], "expected `user:password` on one line, with no space, tab or line break in either (apt's auth.conf cannot hold them): `printf '%s' 'USER:PASSWORD' | pulumi config set --secret aihpc:aptProxyCredentials`");
    }
    const am = ws.monitoring.alertmanager;
    const on = ws.monitoring.enabled && am.enabled;
    const secret = cfg.alertWebhookSecret;
    if (on && am.webhookAuth !== "none") {
        if (am.webhookUrl === undefined) {
            issue(ctx, ["workstation", "monitoring", "alertmanager", "webhookAuth"], `'${am.webhookAuth}' authenticates to webhookUrl, which is not set`);
        }
        if (secret === undefined) {
            issue(ctx, ["alertWebhookSecret"], `required with workstation.monitoring.alertmanager.webhookAuth '${am.webhookAuth}': \`printf '%s' 'THE-${am.webhookAuth === "basic" ? "PASSWORD" : "TOKEN"}' | pulumi config set --secret aihpc:alertWebhookSecret\``);
        } else if (secret.value !== undefined && (secret.value.length === 0 || /[\r\n]/.test(secret.value))) {
            issue(ctx, ["alertWebhookSecret"], "expected one line (a token or a password), without a line break");
        }
        if (am.webhookAuth === "basic" && am.webhookUser === undefined) {
            issue(ctx, ["workstation", "monitoring", "alertmanager", "webhookUser"], "required with webhookAuth 'basic': the user name the webhook expects");
        }
    } else if (secret !== undefined) {
        issue(ctx, ["alertWebhookSecret"], "set, but workstation.monitoring.alertmanager.webhookAuth is 'none' (or Alertmanager is off): set webhookAuth to 'bearer' or 'basic', or remove the secret");
    }
}

const crossChecks = [checkHosts, checkComponents, checkRepositories, checkManagedFolders, checkSecrets, checkGcp, checkHybrid, checkUserRoles, checkCloudNodes];

// Cross-field checks run even when a field has the wrong type, so one run
// reports every problem; a check that trips over such a field skips itself
// (the type error is already reported).
export const stackConfigSchema = shape.superRefine(
    (cfg, ctx) => {
        for (const check of crossChecks) {
            try {
                check(cfg, ctx);
            } catch {
                /* malformed input already reported */
            }
        }
    },
    { when: () => true },
);

export type StackConfig = z.output<typeof stackConfigSchema>;
