import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { HybridConfig } from "../../../config/hybrid";
import { Host } from "../../workstation/host";

/** The build context shipped in the repository: Dockerfile and train.py. */
export const TRAINING_CONTEXT = path.join(__dirname, "training");

/**
 * The image tag: a digest of the build context (every file's path, mode and
 * bytes) and of the build settings (base image, platform). Unchanged inputs
 * give the same tag, so `pulumi up` builds and pushes nothing; Artifact
 * Registry's tags are immutable, so a changed image always gets a new tag.
 */
export function contextTag(dir: string, settings: Record<string, string>): string {
    const h = crypto.createHash("sha256");
    const walk = (abs: string, rel: string) => {
        for (const f of fs.readdirSync(abs).sort()) {
            const p = path.join(abs, f);
            const st = fs.statSync(p);
            if (st.isDirectory()) walk(p, `${rel}${f}/`);
            else h.update(`${rel}${f}\0${st.mode & 0o111 ? "x" : "-"}\0`).update(fs.readFileSync(p)).update("\0");
        }
    };
    walk(dir, "");
    h.update(JSON.stringify(Object.entries(settings).sort()));
    return `ctx-${h.digest("hex").slice(0, 16)}`;
}

/** The Docker daemon to build on: the host over SSH with its pinned key, or the local socket. */
export function dockerHost(h: Host): { host: string; sshOpts?: string[] } {
    if (h.transport.kind === "local") return { host: "unix:///var/run/docker.sock" };
    const c = h.config;
    const known = c.port === 22 ? c.address! : `[${c.address}]:${c.port}`;
    return {
        host: `ssh://${c.user}@${c.address}:${c.port}`,
        // Docker's SSH helper runs the local ssh client: pin the host key the
        // stack pins (no known_hosts file needed), never ask.
        sshOpts: [
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", `KnownHostsCommand=/bin/echo ${known} ${c.hostKey!.trim().split(/\s+/).slice(0, 2).join(" ")}`,
        ],
    };
}

export interface TrainingImageArgs {
    config: HybridConfig["image"];
    /** The host whose Docker daemon builds. */
    host: Host;
    /** `<region>-docker.pkg.dev/<project>/<repository>`. */
    repositoryUrl: pulumi.Input<string>;
    /** PyTorch + CUDA base (FROM). */
    baseImage: string;
    /** Default: the build context shipped in the repository. */
    context?: string;
    /** What the build waits for (Docker on the host, the repository and its grants): the image resource's own dependsOn. */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The training image, built by the workstation's Docker daemon (the provider
 * talks to it over SSH) and pushed to the stack's Artifact Registry. The push
 * authenticates with the deployer's short-lived access token (the gcp
 * provider's credentials; no key): Docker's credential helper on the
 * workstation serves people and jobs there, not the provider, which runs where
 * `pulumi up` runs.
 */
export class TrainingImage extends pulumi.ComponentResource {
    public readonly provider: docker.Provider;
    public readonly image: docker.Image;
    public readonly tag: string;
    /** `<repository>/<name>:<tag>`. */
    public readonly uri: pulumi.Output<string>;
    /** `<repository>/<name>@sha256:...`: what jobs run. */
    public readonly digest: pulumi.Output<string>;

    constructor(name: string, args: TrainingImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:hybrid:TrainingImage", name, {}, opts);
        const context = args.context ?? TRAINING_CONTEXT;
        // Relative to the program's directory (where `pulumi up` runs), so state does not hold this checkout's path.
        const rel = path.relative(process.cwd(), context) || ".";
        const buildArgs = { BASE_IMAGE: args.baseImage };
        this.tag = contextTag(context, { ...buildArgs, platform: args.config.platform });
        this.provider = new docker.Provider(`${name}-docker`, dockerHost(args.host), { parent: this });
        const server = pulumi.output(args.repositoryUrl).apply((u) => u.split("/")[0]);
        const token = gcp.organizations.getClientConfigOutput({ parent: this }).accessToken;
        this.uri = pulumi.interpolate`${args.repositoryUrl}/${args.config.name}:${this.tag}`;
        this.image = new docker.Image(
            `${name}-push`,
            {
                imageName: this.uri,
                build: { context: rel, dockerfile: path.join(rel, "Dockerfile"), platform: args.config.platform, args: buildArgs, builderVersion: "BuilderBuildKit" },
                registry: { server, username: "oauth2accesstoken", password: pulumi.secret(token) },
            },
            { parent: this, provider: this.provider, dependsOn: args.dependsOn },
        );
        this.digest = this.image.repoDigest;
        this.registerOutputs({ uri: this.uri, digest: this.digest });
    }
}
