// Resources that run nothing and stand for many others. Pulumi's state keeps,
// for every resource, the URN of each resource it depends on: a step that
// waits for a host's eight base-system steps lists eight, and one made from
// every host's facts (slurm.conf) lists them all on every host, which grows
// the state with the square of the cluster (issue 17). Through one of these a
// reader lists one. The order is the same on create and on delete: the join
// waits for all of them, its readers for it.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { track } from "./turns";

/** A local command without commands: the provider keeps its inputs and runs nothing. */
function noop(name: string, args: command.local.CommandArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
    return track(new command.local.Command(name, args, opts));
}

/** One resource that waits for all of `deps`: wait for it instead. */
export function marker(name: string, deps: pulumi.Input<pulumi.Resource>[], opts: pulumi.CustomResourceOptions = {}): pulumi.Resource {
    return noop(name, {}, { ...opts, dependsOn: deps });
}

/**
 * VALUE kept by one resource, under KEY (what the preview shows: `environment.KEY`):
 * what reads the result depends on that resource alone, not on every resource VALUE came from.
 */
export function join(
    name: string,
    key: string,
    value: pulumi.Output<string>,
    opts: pulumi.CustomResourceOptions,
): { value: pulumi.Output<string>; resource: pulumi.Resource } {
    const resource = noop(name, { environment: { [key]: value } }, opts);
    const joined = resource.environment.apply((e) => {
        const v = e?.[key];
        if (v === undefined) throw new Error(`${name}: ${key} is missing from its outputs`);
        return v;
    });
    return { value: joined, resource };
}
