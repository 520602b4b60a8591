import * as fs from "fs";
import * as path from "path";

/** Quote a string for a POSIX shell: safe for any content. */
export function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command string for one step: the script's text run by bash, with its
 * settings as variables in front. The exact string is what the provider sends
 * over SSH (and what the testbed runs), so it must never hold a secret: secrets
 * go on stdin or in a 0600 file.
 */
export function scriptCommand(script: string, env: Record<string, string | number | boolean> = {}): string {
    const vars = Object.entries(env)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => {
            if (!/^[A-Z][A-Z0-9_]*$/.test(k)) throw new Error(`invalid variable name '${k}'`);
            return `${k}=${shellQuote(String(v))}`;
        });
    return [...vars, "bash", "-c", shellQuote(script), "aihpc-step"].join(" ");
}

/** Read a script shipped beside a component (read once per program run). */
export function readScript(dir: string, file: string): string {
    return fs.readFileSync(path.join(dir, file), "utf8");
}

/**
 * A script as it travels inside a command string, which Pulumi's state keeps
 * twice (inputs and outputs): without its comment lines, blank lines and
 * indentation, which bash never needed. Only for scripts with no
 * here-document (it refuses those) and no string over several lines (it
 * cannot tell those: the unit tests run both scripts sent this way).
 */
export function inlineScript(script: string): string {
    if (/<<-?\s*['"]?\w/.test(script.replace(/<<</g, ""))) throw new Error("inlineScript: a script with a here-document must travel as a file (the step bundle)");
    return script
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"))
        .join("\n");
}

/** `readScript`, as `inlineScript` sends it: the facts probe and the bundle install, which run before the bundle is there. */
export function readInlineScript(dir: string, file: string): string {
    return inlineScript(readScript(dir, file));
}
