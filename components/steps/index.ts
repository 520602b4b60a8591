// Shared by the workstation components: a step is a script shipped beside a
// component, run on a host from the step bundle (bundle.ts) with the step
// library (scripts/lib.sh) in front. The command names the two files by
// their content hash and carries the step's small settings; file payloads
// travel as bundled files or on stdin (lib.sh `aihpc_inputs`), never in argv.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { bundlePath, STEP_SCRIPTS_DIR } from "./bundle";
import { readScript, shellQuote } from "./shell";
import { hostStep, Transport } from "./host-step";
import { checkSetName } from "./files";
import { CopiedFile } from "./copied";

export { aptKeyring, aptPreference, aptSource, fileSet, parseFileSet } from "./files";
export type { AptPin } from "./files";

const LIB_DIR = STEP_SCRIPTS_DIR;

export type StepAction = "apply" | "delete";
export type StepEnv = Record<string, string | number | boolean>;

/** The bash text of lib.sh then a step's script (its shebang dropped): for tests that run a step in place. */
export function stepScript(dir: string, file: string): string {
    const body = readScript(dir, file).replace(/^#!.*\n/, "");
    return `${readScript(LIB_DIR, "lib.sh")}\n# ---- ${file}\n${body}`;
}

/**
 * Settings longer than this, or with a line break, are file payloads: `files`, `bundled` or `sets`.
 * Lists from config (users, packages) stay far below it: 8 KiB is hundreds of names, and a
 * whole command stays well under Linux's 128 KiB for one argument.
 */
export const MAX_SETTING_LENGTH = 8192;

/** How a step's inputs that are not settings reach it (see lib.sh `aihpc_inputs`). */
export interface StepInputs {
    /** VAR -> a bundled file (its text becomes $VAR). */
    bundled?: Record<string, string>;
    /** VAR -> {relative name: bundled file}: $VAR becomes "REL=BASE64 ..." (the file-set encoding, files.ts `fileSet`). */
    sets?: Record<string, Record<string, string>>;
    /** A stdin payload follows (files rendered for this host, a secret). */
    payload?: boolean;
}

const VAR = /^[A-Z][A-Z0-9_]*$/;

function checkVar(k: string, where: string): void {
    if (!VAR.test(k) || k.startsWith("AIHPC_")) throw new Error(`${where}: invalid variable name '${k}'`);
}

/**
 * The command string: `AIHPC_ACTION=.. VAR='..' ... bash <bundle>/<h>/lib.sh <bundle>/<h>/STEP.sh`.
 * The exact string is what the provider sends and keeps in state: never a secret, never a file.
 */
export function stepCommand(dir: string, file: string, action: StepAction, env: StepEnv, inputs: StepInputs = {}): string {
    const where = `step ${file}`;
    const vars: string[] = [`AIHPC_ACTION=${shellQuote(action)}`, `AIHPC_STEP_NAME=${shellQuote(file.replace(/\.sh$/, ""))}`];
    const bundled = Object.entries(inputs.bundled ?? {}).sort(([a], [b]) => a.localeCompare(b));
    if (bundled.length) vars.push(`AIHPC_FILES=${shellQuote(bundled.map(([k, f]) => (checkVar(k, where), `${k}=${bundlePath(f)}`)).join(" "))}`);
    const sets = Object.entries(inputs.sets ?? {}).sort(([a], [b]) => a.localeCompare(b));
    if (sets.length) {
        const words = sets.map(([k, files]) => {
            checkVar(k, where);
            const members = Object.entries(files).map(([rel, f]) => {
                checkSetName(rel, `${where}: ${k}`);
                return `${rel}:${bundlePath(f)}`;
            });
            return `${k}=${members.join(",")}`;
        });
        vars.push(`AIHPC_SETS=${shellQuote(words.join(" "))}`);
    }
    if (inputs.payload) vars.push("AIHPC_PAYLOAD='1'");
    for (const [k, v] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
        checkVar(k, where);
        const text = String(v);
        if (text.length > MAX_SETTING_LENGTH || text.includes("\n")) {
            throw new Error(`${where}: setting ${k} is ${text.length} characters${text.includes("\n") ? " with line breaks" : ""}: pass file contents as \`files\` (stdin) or \`bundled\`, not in the command line`);
        }
        vars.push(`${k}=${shellQuote(text)}`);
    }
    return [...vars, "bash", bundlePath(path.join(LIB_DIR, "lib.sh")), bundlePath(path.join(dir, file))].join(" ");
}

/**
 * The stdin payload: files rendered for this host, where the copied stack files are
 * (`-copied VAR=PATH@SHA256`: on stdin, not in the command, so the command stays
 * known in a preview), then the step's own stdin (a secret).
 */
export function stepPayload(files: Record<string, string>, stdin?: string, copied: Record<string, CopiedFile> = {}): string {
    const lines = ["aihpc-payload 1"];
    for (const [k, v] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
        checkVar(k, "step payload");
        lines.push(`${k} ${Buffer.from(v).toString("base64")}`);
    }
    for (const [k, f] of Object.entries(copied).sort(([a], [b]) => a.localeCompare(b))) {
        checkVar(k, "step payload");
        if (!/^\/[A-Za-z0-9._/+-]+$/.test(f.path) || !/^[0-9a-f]{64}$/.test(f.sha256)) {
            throw new Error(`step payload: copied file ${k}: its path '${f.path}' must be absolute and of [A-Za-z0-9._/+-] only (on the local transport, the project folder's), its sha256 64 hex digits`);
        }
        lines.push(`-copied ${k}=${f.path}@${f.sha256}`);
    }
    if (stdin !== undefined) lines.push(`-stdin ${Buffer.from(stdin).toString("base64")}`);
    return `${lines.join("\n")}\n`;
}

/** File text as a step receives it (lib.sh strips trailing newlines; aihpc_put adds one). */
export function fileText(s: string): string {
    return s.replace(/\s+$/, "");
}

export interface ScriptStep {
    /** Directory of the component's scripts. */
    dir: string;
    file: string;
    /** Small settings for create/update; may hold Outputs (host facts). Never a secret or a file. */
    env: pulumi.Input<StepEnv>;
    /** Settings the delete command needs (kept small: they sit in state). */
    deleteEnv?: StepEnv;
    /** Omit the delete command (read-only or nothing to undo). */
    noDelete?: boolean;
    /** Files rendered for this host, by variable: on stdin, so neither in argv nor in the command. */
    files?: pulumi.Input<Record<string, string>>;
    /** Files shipped verbatim, by variable: from the step bundle (see StepInputs). */
    bundled?: Record<string, string>;
    /** Sets of files shipped verbatim, by variable (see StepInputs). */
    sets?: Record<string, Record<string, string>>;
    /** A secret, handed to the script as its stdin. */
    stdin?: pulumi.Input<string>;
    /** Files rendered for the whole stack, by variable, copied to the host (copied.ts `copyToHost`): the state holds their hash. */
    copied?: Record<string, pulumi.Input<CopiedFile>>;
}

/** One `hostStep` running a component script with `AIHPC_ACTION=apply|delete`. */
export function scriptStep(name: string, transport: Transport, s: ScriptStep, opts: pulumi.CustomResourceOptions) {
    const payload = s.files !== undefined || s.stdin !== undefined || s.copied !== undefined;
    const inputs: StepInputs = { bundled: s.bundled, sets: s.sets, payload };
    // Plain settings and files make plain strings: each Output costs the SDK a few
    // dozen promises and closures per step until it registers (docs/benchmarks.md).
    const env = s.env;
    const create = isPlain(env) ? stepCommand(s.dir, s.file, "apply", env, inputs) : pulumi.output(env).apply((e) => stepCommand(s.dir, s.file, "apply", e, inputs));
    const files = s.files ?? {};
    const stdin = !payload
        ? undefined
        : isPlain(files) && s.stdin === undefined && s.copied === undefined
          ? stepPayload(files)
          : pulumi.all([files, s.stdin, s.copied ?? {}]).apply(([f, secret, copied]) => stepPayload(f, secret, copied));
    return hostStep(
        name,
        transport,
        {
            create,
            delete: s.noDelete ? undefined : stepCommand(s.dir, s.file, "delete", s.deleteEnv ?? {}, inputs),
            stdin,
        },
        opts,
    );
}

/** A record of plain values: no Output or promise in it, at its top or one level down. */
function isPlain<T extends object>(v: pulumi.Input<T>): v is T {
    const input = (x: unknown) => pulumi.Output.isInstance(x) || x instanceof Promise;
    return !input(v) && !Object.values(v as object).some(input);
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
