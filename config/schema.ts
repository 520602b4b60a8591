import { z } from "zod";
import { gcpSchema } from "./gcp";
import { SecretValue } from "./secret";
import { versions } from "./versions";
import { workstationSchema } from "./workstation";

const secret = (key: string) =>
    z.custom<SecretValue>((v) => v instanceof SecretValue, {
        error: `expected a Pulumi secret, got plain text: set it with \`pulumi config set --secret aihpc:${key} < FILE\``,
    });

/**
 * The whole `aihpc:` namespace of a stack file, one key per field. Secrets have
 * keys of their own: Pulumi marks a whole structured key secret when any part
 * of it is, which would hide the rest of the plan.
 */
const shape = z.strictObject({
    workstation: workstationSchema,
    /** Present: the `gcp` stack (cloud side and bridge); absent: workstations only. */
    gcp: gcpSchema.optional(),
    /** Private key for every `ssh` host (OpenSSH or PEM text). */
    sshPrivateKey: secret("sshPrivateKey").optional(),
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
    if (ws.transport === "ssh" && cfg.sshPrivateKey === undefined) {
        issue(ctx, ["sshPrivateKey"], "required with transport 'ssh': `pulumi config set --secret aihpc:sshPrivateKey < ~/.ssh/id_ed25519`");
    }
}

function checkSlurm(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const ws = cfg.workstation;
    if (!ws.slurm.enabled) return;
    const controllers = ws.hosts.filter((h) => h.roles.includes("controller"));
    if (controllers.length !== 1) {
        issue(ctx, ["workstation", "hosts"], `Slurm needs exactly one host with role 'controller', got ${controllers.length}${controllers.length ? ` (${controllers.map((h) => h.name).join(", ")})` : ""}`);
    }
    const compute = new Set(ws.hosts.filter((h) => h.roles.includes("compute")).map((h) => h.name));
    if (compute.size === 0) {
        issue(ctx, ["workstation", "hosts"], "Slurm needs at least one host with role 'compute'");
    }
    const known = new Set(ws.hosts.map((h) => h.name));
    const names = new Map<string, number>();
    let defaults = 0;
    ws.slurm.partitions.forEach((p, i) => {
        const path = ["workstation", "slurm", "partitions", i];
        if (names.has(p.name)) {
            issue(ctx, [...path, "name"], `partition '${p.name}' is defined twice (also partitions[${names.get(p.name)}])`);
        }
        names.set(p.name, i);
        if (p.default) defaults++;
        (p.hosts ?? []).forEach((h, j) => {
            if (!known.has(h)) {
                issue(ctx, [...path, "hosts", j], `unknown host '${h}': expected one of ${[...known].join(", ")}`);
            } else if (!compute.has(h)) {
                issue(ctx, [...path, "hosts", j], `host '${h}' has no 'compute' role, so it runs no jobs`);
            }
        });
    });
    if (defaults > 1) {
        issue(ctx, ["workstation", "slurm", "partitions"], `at most one partition may be the default, got ${defaults}`);
    }
}

function checkNvidia(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const nv = cfg.workstation.nvidia;
    if (!nv.enabled) return;
    const d = nv.driver;
    if (d.source === "debian" && d.branch !== undefined && d.branch !== versions.debianDriverBranch) {
        issue(ctx, ["workstation", "nvidia", "driver", "branch"], `Debian 12 ships only the ${versions.debianDriverBranch} branch: use "${versions.debianDriverBranch}", or source 'cuda-repo' for '${d.branch}'`);
    }
    if (d.source === "cuda-repo" && d.branch !== undefined && Number(d.branch) < 550) {
        issue(ctx, ["workstation", "nvidia", "driver", "branch"], `NVIDIA's Debian 12 repository carries branches 550 and newer, got '${d.branch}'`);
    }
    if (d.openKernelModules && d.source !== "cuda-repo") {
        issue(ctx, ["workstation", "nvidia", "driver", "openKernelModules"], "open kernel modules come from source 'cuda-repo'; Debian's 535 packages are proprietary only");
    }
    const cuda = nv.cuda;
    if (new Set(cuda.versions).size !== cuda.versions.length) {
        issue(ctx, ["workstation", "nvidia", "cuda", "versions"], "a CUDA version is listed twice");
    }
    if (cuda.default !== undefined && !cuda.versions.includes(cuda.default)) {
        issue(ctx, ["workstation", "nvidia", "cuda", "default"], `'${cuda.default}' is not installed: expected one of ${cuda.versions.join(", ")}`);
    }
}

function checkMonitoring(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const m = cfg.workstation.monitoring;
    if (!m.enabled) return;
    const ports: [string[], number][] = [
        [["nodeExporterPort"], m.nodeExporterPort],
        [["prometheus", "port"], m.prometheus.port],
        [["alertmanager", "port"], m.alertmanager.port],
        [["grafana", "port"], m.grafana.port],
    ];
    const used = new Map<number, string>();
    for (const [path, p] of ports) {
        const other = used.get(p);
        if (other !== undefined) {
            issue(ctx, ["workstation", "monitoring", ...path], `port ${p} is already used by monitoring.${other}`);
        } else {
            used.set(p, path.join("."));
        }
    }
}

function checkGcp(cfg: z.output<typeof shape>, ctx: Ctx): void {
    const g = cfg.gcp;
    if (!g) return;
    if (g.zone !== undefined && !g.zone.startsWith(`${g.region}-`)) {
        issue(ctx, ["gcp", "zone"], `zone '${g.zone}' is not in region '${g.region}': expected '${g.region}-<letter>'`);
    }
}

const crossChecks = [checkHosts, checkSlurm, checkNvidia, checkMonitoring, checkGcp];

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
