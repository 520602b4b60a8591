import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GcpConfig } from "../../../config";
import { GcpContext } from "../context";
import { applyIam, IamArgs } from "../iam";

export interface ArtifactRegistryArgs {
    ctx: GcpContext;
    config: GcpConfig["artifactRegistry"];
    /** Grants on the training image repository. */
    iam?: IamArgs;
    /** Grants on the Docker Hub cache (only with `remoteCache`). */
    cacheIam?: IamArgs;
}

const DAY = 86400;

/**
 * A Docker repository for training images: tags are immutable (a tag always
 * names the image that was tested), the newest `keepRecent` versions are kept,
 * untagged images are deleted after `deleteUntaggedAfterDays`, vulnerability
 * scanning follows the project (on with the Container Scanning API, which the
 * stack enables). Optionally a remote repository that caches Docker Hub for the
 * workstation (pulls without Docker Hub's rate limits).
 */
export class ArtifactRegistry extends pulumi.ComponentResource {
    public readonly repository: gcp.artifactregistry.Repository;
    public readonly cache?: gcp.artifactregistry.Repository;
    /** `<region>-docker.pkg.dev/<project>/<repository>`. */
    public readonly url: pulumi.Output<string>;
    public readonly cacheUrl?: pulumi.Output<string>;

    constructor(name: string, args: ArtifactRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:ArtifactRegistry", name, {}, opts);
        const { ctx, config: c } = args;
        this.repository = new gcp.artifactregistry.Repository(
            `${name}-docker`,
            {
                project: ctx.project,
                location: ctx.region,
                repositoryId: ctx.naming.name(c.repository),
                format: "DOCKER",
                mode: "STANDARD_REPOSITORY",
                description: "aihpc training images",
                dockerConfig: { immutableTags: true },
                cleanupPolicyDryRun: false,
                cleanupPolicies: [
                    { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: c.keepRecent } },
                    { id: "delete-untagged", action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: `${c.deleteUntaggedAfterDays * DAY}s` } },
                ],
                vulnerabilityScanningConfig: { enablementConfig: "INHERITED" },
                labels: { ...ctx.labels, role: "images" },
            },
            { parent: this },
        );
        this.url = this.repository.registryUri;
        this.iam(`${name}-docker`, this.repository, args.iam ?? {}, ctx);
        if (c.remoteCache) {
            this.cache = new gcp.artifactregistry.Repository(
                `${name}-dockerhub`,
                {
                    project: ctx.project,
                    location: ctx.region,
                    repositoryId: ctx.naming.name("dockerhub"),
                    format: "DOCKER",
                    mode: "REMOTE_REPOSITORY",
                    description: "aihpc cache of Docker Hub",
                    remoteRepositoryConfig: { description: "Docker Hub", dockerRepository: { publicRepository: "DOCKER_HUB" } },
                    cleanupPolicyDryRun: false,
                    cleanupPolicies: [{ id: "expire-cache", action: "DELETE", condition: { tagState: "ANY", olderThan: `${30 * DAY}s` } }],
                    vulnerabilityScanningConfig: { enablementConfig: "INHERITED" },
                    labels: { ...ctx.labels, role: "dockerhub-cache" },
                },
                { parent: this },
            );
            this.cacheUrl = this.cache.registryUri;
            this.iam(`${name}-dockerhub`, this.cache, args.cacheIam ?? {}, ctx);
        }
        this.registerOutputs({ url: this.url, cacheUrl: this.cacheUrl });
    }

    private iam(name: string, repo: gcp.artifactregistry.Repository, iam: IamArgs, ctx: GcpContext): void {
        const target = { project: repo.project, location: repo.location, repository: repo.name };
        applyIam(
            name,
            iam,
            {
                binding: (n, role, members, o) => new gcp.artifactregistry.RepositoryIamBinding(n, { ...target, role, members }, o),
                member: (n, role, member, condition, o) => new gcp.artifactregistry.RepositoryIamMember(n, { ...target, role, member, condition }, o),
            },
            this,
            { allowUserMembers: ctx.allowUserMembers },
        );
    }
}
