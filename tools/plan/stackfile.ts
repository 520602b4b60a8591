import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { UNDECRYPTED_SECRET } from "../../config";

export interface StackFile {
    project: string;
    stack: string;
    /** As the CLI hands config to a program: `ns:key` -> string, objects as JSON. */
    config: Record<string, string>;
    /** Keys holding a `secure:` value anywhere inside. */
    secretKeys: string[];
}

/** A stack file or project folder that cannot be read: one message, exit 1. */
export class StackFileError extends Error {}

/** A malformed argument (a stack name that is not one): usage, exit 2. */
export class PlanArgumentError extends Error {}

/**
 * Pulumi's rule for stack names (letters, digits, '-', '_', '.'), and never
 * '.' or '..': the name becomes a file name, `Pulumi.<stack>.yaml`, so a
 * separator or '..' would read a file outside the project. Checked before any
 * file is touched.
 */
export function checkStackName(stack: string): void {
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(stack) || /^\.+$/.test(stack) || stack.includes("..")) {
        throw new PlanArgumentError(
            `--stack ${JSON.stringify(stack)}: expected a stack name (letters, digits, '-', '_' and '.', no '..' or path separators), e.g. --stack local`,
        );
    }
}

function isSecure(v: unknown): v is { secure: string } {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";
}

/** Replace `secure:` values by a placeholder; report whether any was found. */
function stripSecure(v: unknown): { value: unknown; secret: boolean } {
    if (isSecure(v)) return { value: UNDECRYPTED_SECRET, secret: true };
    if (Array.isArray(v)) {
        const items = v.map(stripSecure);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (typeof v === "object" && v !== null) {
        const entries = Object.entries(v).map(([k, x]) => [k, stripSecure(x)] as const);
        return { value: Object.fromEntries(entries.map(([k, x]) => [k, x.value])), secret: entries.some(([, x]) => x.secret) };
    }
    return { value: v, secret: false };
}

/** The stacks that have a `Pulumi.<name>.yaml` beside `Pulumi.yaml`. */
export function listStacks(root: string): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/**
 * Read a stack's config the way the Pulumi CLI would pass it to the program,
 * without decrypting anything: `secure:` values become placeholders and their
 * keys are marked secret.
 */
export function readStackFile(root: string, stack: string): StackFile {
    checkStackName(stack);
    const projectFile = path.join(root, "Pulumi.yaml");
    if (!fs.existsSync(projectFile)) {
        throw new StackFileError(`no Pulumi project in ${root}: ${projectFile} does not exist (--dir names the folder that holds Pulumi.yaml and the Pulumi.<stack>.yaml files)`);
    }
    let project: string | undefined;
    try {
        project = (YAML.parse(fs.readFileSync(projectFile, "utf8")) as { name?: string })?.name;
    } catch (err) {
        throw new StackFileError(`${projectFile}: not valid YAML: ${(err as Error).message}`);
    }
    if (!project) throw new StackFileError(`${projectFile}: no project name`);
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new StackFileError(`no stack '${stack}': ${file} does not exist (stacks here: ${listStacks(root).join(", ") || "none"})`);
    }
    let doc: { config?: Record<string, unknown> } | null;
    try {
        doc = YAML.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new StackFileError(`${file}: not valid YAML: ${(err as Error).message}`);
    }
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, raw] of Object.entries(doc?.config ?? {})) {
        const full = key.includes(":") ? key : `${project}:${key}`;
        const { value, secret } = stripSecure(raw);
        config[full] = typeof value === "string" ? value : JSON.stringify(value);
        if (secret) secretKeys.push(full);
    }
    return { project, stack, config, secretKeys };
}
