// Shared by the workstation components: turn a step script shipped beside a
// component into the exact command string a host runs, with the step library
// (host/scripts/lib.sh) in front and the step's settings as variables.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { readScript, scriptCommand } from "./host/script";
import { hostStep, Transport } from "./host/step";

const LIB_DIR = path.join(__dirname, "host", "scripts");

export type StepAction = "apply" | "delete";
export type StepEnv = Record<string, string | number | boolean>;

/** The bash text a step runs: lib.sh, then the step's script (its shebang dropped). */
export function stepScript(dir: string, file: string): string {
    const body = readScript(dir, file).replace(/^#!.*\n/, "");
    return `${readScript(LIB_DIR, "lib.sh")}\n# ---- ${file}\n${body}`;
}

/** The command string: `VAR='..' ... bash -c '<lib + script>' aihpc-step`. */
export function stepCommand(dir: string, file: string, action: StepAction, env: StepEnv): string {
    return scriptCommand(stepScript(dir, file), { ...env, AIHPC_ACTION: action, AIHPC_STEP_NAME: file.replace(/\.sh$/, "") });
}

/** File contents travel in variables; a trailing newline is added on the host. */
export function fileText(s: string): string {
    return s.replace(/\s+$/, "");
}

export interface ScriptStep {
    /** Directory of the component's scripts. */
    dir: string;
    file: string;
    /** Settings for create/update; may hold Outputs (host facts). Never a secret. */
    env: pulumi.Input<StepEnv>;
    /** Settings the delete command needs (kept small: they sit in state). */
    deleteEnv?: StepEnv;
    /** Omit the delete command (read-only or nothing to undo). */
    noDelete?: boolean;
    /** A secret or file on stdin. */
    stdin?: pulumi.Input<string>;
}

/** One `hostStep` running a component script with `AIHPC_ACTION=apply|delete`. */
export function scriptStep(name: string, transport: Transport, s: ScriptStep, opts: pulumi.CustomResourceOptions) {
    const create = pulumi.output(s.env).apply((env) => stepCommand(s.dir, s.file, "apply", env));
    return hostStep(
        name,
        transport,
        {
            create,
            delete: s.noDelete ? undefined : stepCommand(s.dir, s.file, "delete", s.deleteEnv ?? {}),
            stdin: s.stdin,
        },
        opts,
    );
}

/** Write `/etc/aihpc/retain/<component>`: teardown reads it (so flipping `retain` re-runs one step only). */
export function retainStep(name: string, transport: Transport, component: string, retain: boolean, opts: pulumi.CustomResourceOptions) {
    return scriptStep(name, transport, { dir: LIB_DIR, file: "retain.sh", env: { COMPONENT: component, RETAIN: retain }, deleteEnv: { COMPONENT: component } }, opts);
}

/**
 * Options for the steps of one component on one host: a child of the
 * component, after the host's preflight gate, what came before on that host
 * (`before`), and the steps named at each call.
 */
export function stepOptions(
    parent: pulumi.Resource,
    host: { ready: pulumi.Input<pulumi.Resource> },
    before: pulumi.Input<pulumi.Resource>[] = [],
): (...deps: pulumi.Input<pulumi.Resource>[]) => pulumi.CustomResourceOptions {
    return (...deps) => ({ parent, dependsOn: [host.ready, ...before, ...deps] });
}
