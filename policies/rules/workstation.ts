import { compareDebianVersions, pinMatches } from "../../config/debian-version";
import { securityBuilds } from "../../config/versions";
import { ResourceRule, RuleResource, StackRule } from "./types";

const REMOTE = ["command:remote:Command", "command:remote:CopyToRemote", "command:remote:CopyFile"];
const COMMANDS = ["command:remote:Command", "command:local:Command"];
const COMMAND_FIELDS = ["create", "update", "delete", "environment"] as const;

/** Values that must never be printed: whatever the stack holds as key material. */
function secretValues(resources: RuleResource[]): string[] {
    const out: string[] = [];
    for (const r of resources) {
        const p = r.props;
        if (typeof p.connection?.privateKey === "string") out.push(p.connection.privateKey);
        if (typeof p.connection?.password === "string") out.push(p.connection.password);
        // stdin: a secret (CrossGuard cannot tell, so there every stdin counts); in a step payload, its `-stdin` line.
        if (typeof p.stdin === "string" && (r.secretInputs === undefined || r.secretInputs.has("stdin"))) out.push(...stdinSecrets(p.stdin));
        if (r.type === "random:index/randomBytes:RandomBytes") out.push(p.base64, p.hex);
        if (r.type === "random:index/randomPassword:RandomPassword") out.push(p.result);
        if (r.type === "tls:index/privateKey:PrivateKey") out.push(p.privateKeyPem, p.privateKeyOpenssh);
    }
    // Short values would match by accident; key material is long. Each once: hosts share keys.
    return [...new Set(out.filter((s): s is string => typeof s === "string" && s.length >= 16))];
}

/** The secret in a step's stdin: the whole text, or the `-stdin` line of an aihpc payload (components/steps/index.ts). */
function stdinSecrets(stdin: string): string[] {
    if (!stdin.startsWith("aihpc-payload 1\n")) return [stdin];
    const line = stdin.split("\n").find((l) => l.startsWith("-stdin "));
    return line ? [Buffer.from(line.slice("-stdin ".length), "base64").toString("utf8")] : [];
}

function commandText(r: RuleResource): { field: string; text: string }[] {
    return COMMAND_FIELDS.flatMap((f) => {
        const v = r.props[f];
        if (typeof v === "string") return [{ field: f, text: v }];
        if (v && typeof v === "object") return [{ field: f, text: JSON.stringify(v) }];
        return [];
    });
}

// Packages whose version must be pinned by the command that installs them.
const PINNED = [/\bcuda-toolkit(?![-\w])/, /\bcuda-drivers(?![-\w])/, /\bnvidia-driver(?![-=\w$])/, /\bnvidia-open(?![-\w])/];

/** The opt-in exact pins a step carries (`EXACT_PINS='pkg=glob ...'`, components/workstation nvidia and containers). */
function exactPins(r: RuleResource): { pkg: string; glob: string }[] {
    return commandText(r)
        .filter((c) => c.field !== "delete")
        .flatMap((c) => [...c.text.matchAll(/\bEXACT_PINS='([^']*)'/g)].flatMap((m) => m[1].split(/\s+/).filter(Boolean)))
        .map((e) => ({ pkg: e.slice(0, e.indexOf("=")), glob: e.slice(e.indexOf("=") + 1) }));
}

/** The lowest version a pin's glob allows, as far as ordering goes: its text before the first wildcard, less a dangling `-`/`+`. */
function pinFloor(glob: string): string {
    return glob.split(/[*?]/)[0].replace(/[-+.~]+$/, "");
}

/** Security builds (config/versions.ts, recorded from the archive) that an exact pin of PKG at GLOB keeps out. */
export function heldBackSecurityBuilds(pkg: string, glob: string) {
    return securityBuilds.filter((b) => b.packages.includes(pkg) && !pinMatches(glob, b.version) && compareDebianVersions(b.version, pinFloor(glob)) > 0);
}

export const workstationResourceRules: ResourceRule[] = [
    {
        kind: "resource",
        name: "ssh-host-key-pinned",
        description: "Every SSH connection pins the host's public key.",
        severity: "high",
        sources: ["CIS Debian 5.2 (SSH)", "@pulumi/command: without hostKey the provider checks nothing"],
        remediation: "Set hosts[].hostKey (ssh-keyscan -t ed25519 HOST).",
        enforcementLevel: "mandatory",
        appliesTo: REMOTE,
        validate: (r) => (typeof r.props.connection?.hostKey === "string" && r.props.connection.hostKey.trim() !== "" ? [] : [`connection to ${r.props.connection?.host ?? "?"} does not pin a host key`]),
    },
    {
        kind: "resource",
        name: "command-no-secret-inputs",
        description: "No secret inside a command string (create/update/delete/environment): stdin or a 0600 file instead.",
        severity: "critical",
        sources: ["aihpc: the provider prints failed commands in full", "CWE-214"],
        remediation: "Pass the secret on stdin, or copy it as a 0600 file, and read it in the script.",
        enforcementLevel: "mandatory",
        appliesTo: COMMANDS,
        validate: (r) => COMMAND_FIELDS.filter((f) => r.secretInputs?.has(f)).map((f) => `'${f}' carries a secret`),
    },
    {
        kind: "resource",
        name: "gpu-stack-versions-pinned",
        description: "NVIDIA driver and CUDA packages are installed at pinned versions.",
        severity: "medium",
        sources: ["DeepOps: unpinned packages changed under users", "CKV2_x (pinned versions)"],
        remediation: "Install cuda-toolkit-X-Y, cuda-drivers-NNN or nvidia-driver=VERSION; pins live in config/versions.ts.",
        enforcementLevel: "mandatory",
        appliesTo: COMMANDS,
        validate: (r) =>
            commandText(r)
                .filter((c) => c.field !== "delete")
                .flatMap((c) => PINNED.filter((re) => re.test(c.text)).map((re) => `'${c.field}' installs ${re.source.replace(/\\b|\(\?![^)]*\)/g, "")} without a version`)),
    },
    {
        kind: "resource",
        name: "debian-exact-pin-security",
        description: "An exact Debian package version (an opt-in; the default follows the release line) does not hold back a known security build.",
        severity: "high",
        sources: ["Debian security updates (bookworm-security): DSA/DLA builds replace, never sit beside, the vulnerable one", "config/versions.ts securityBuilds (recorded from the archive's Packages indexes)"],
        remediation:
            "Unset the exact version (workstation.nvidia.driver.version, workstation.containers.docker.version) so apt follows the line with its security builds, or pin the security build; `npm run versions` shows what the archive serves now.",
        enforcementLevel: "advisory",
        appliesTo: COMMANDS,
        validate: (r) => {
            // One finding per held-back build and pin, naming every package pinned to it.
            const found = new Map<string, { pkgs: string[]; text: string }>();
            for (const { pkg, glob } of exactPins(r)) {
                for (const b of heldBackSecurityBuilds(pkg, glob)) {
                    const key = `${glob} ${b.version}`;
                    const f = found.get(key) ?? { pkgs: [], text: `=${glob} holds back the security build ${b.version} (${b.suite}; ${b.source})` };
                    f.pkgs.push(pkg);
                    found.set(key, f);
                }
            }
            return [...found.values()].map((f) => `exact pin ${f.pkgs.join(", ")}${f.text}`);
        },
    },
];

/** `NodeName=` and `PartitionName=... Nodes=` lines of every slurm.conf the stack writes. */
function slurmLines(resources: RuleResource[]): { nodes: Set<string>; partitions: { name: string; nodes: string[]; urn: string }[] } {
    const nodes = new Set<string>();
    const partitions: { name: string; nodes: string[]; urn: string }[] = [];
    for (const r of resources) {
        if (!COMMANDS.includes(r.type) && !REMOTE.includes(r.type)) continue;
        const texts = [...commandText(r).map((c) => c.text), typeof r.props.stdin === "string" ? r.props.stdin : ""];
        for (const t of texts) {
            for (const m of t.matchAll(/^NodeName=(\S+)/gm)) m[1].split(",").forEach((n) => nodes.add(n));
            for (const m of t.matchAll(/^PartitionName=(\S+).*?\bNodes=(\S+)/gm)) partitions.push({ name: m[1], nodes: m[2].split(","), urn: r.urn });
        }
    }
    return { nodes, partitions };
}

export const workstationStackRules: StackRule[] = [
    {
        kind: "stack",
        name: "command-no-secret-values",
        description: "No command string contains the value of a secret the stack holds (SSH keys, munge key, passwords).",
        severity: "critical",
        sources: ["aihpc: the provider prints failed commands in full", "CWE-532"],
        remediation: "Deliver the value on stdin or as a 0600 file.",
        enforcementLevel: "mandatory",
        validate: (resources) => {
            const secrets = secretValues(resources);
            return resources
                .filter((r) => COMMANDS.includes(r.type))
                .flatMap((r) =>
                    commandText(r)
                        .filter((c) => secrets.some((s) => c.text.includes(s)))
                        .map((c) => ({ message: `'${c.field}' of ${r.name} contains a secret value`, urn: r.urn })),
                );
        },
    },
    {
        kind: "stack",
        name: "slurm-partitions-name-stack-hosts",
        description: "Every Slurm partition names only nodes the stack defines.",
        severity: "medium",
        sources: ["Slurm: a partition with an unknown node fails slurmctld at start"],
        remediation: "Fix workstation.slurm.partitions[].hosts to name hosts of the stack.",
        enforcementLevel: "mandatory",
        validate: (resources) => {
            const { nodes, partitions } = slurmLines(resources);
            if (nodes.size === 0) return [];
            return partitions.flatMap((p) =>
                p.nodes.filter((n) => n !== "ALL" && !nodes.has(n)).map((n) => ({ message: `partition ${p.name} names ${n}, which is no NodeName of the stack`, urn: p.urn })),
            );
        },
    },
];
