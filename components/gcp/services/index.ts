import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GcpContext } from "../context";

export interface ProjectServicesArgs {
    ctx: GcpContext;
    /** API names, e.g. `aiplatform.googleapis.com`. */
    services: string[];
}

/**
 * The APIs the stack uses. Never disabled on destroy: other workloads in the
 * project may use them, and disabling an API deletes its resources.
 */
export class ProjectServices extends pulumi.ComponentResource {
    public readonly services: gcp.projects.Service[];

    constructor(name: string, args: ProjectServicesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:gcp:ProjectServices", name, {}, opts);
        const unique = [...new Set(args.services)].sort();
        this.services = unique.map(
            (service) =>
                new gcp.projects.Service(
                    `${name}-${service.split(".")[0]}`,
                    { project: args.ctx.project, service, disableOnDestroy: false, disableDependentServices: false },
                    { parent: this },
                ),
        );
        this.registerOutputs({ services: unique });
    }
}
