// What a step receives on its host, read back from its planned inputs: the
// settings in its command, the bundled files it names (read from this
// checkout), the files on its stdin payload, and the secret it hands on.
// The same decoding as lib.sh's `aihpc_inputs`, for assertions on content.
import { bundleEntries, BUNDLE_ROOT } from "../../components/steps/bundle";
import { fileSet } from "../../components/steps/files";
import { stackFileText } from "../../components/steps/copied";

/** `VAR=value` words in front of `bash`, unquoted as the shell would. */
export function commandAssignments(cmd: string): Record<string, string> {
    const out: Record<string, string> = {};
    let i = 0;
    while (i < cmd.length) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(cmd.slice(i));
        if (!m) break;
        i += m[0].length;
        let value = "";
        while (i < cmd.length && cmd[i] !== " ") {
            if (cmd[i] === "'") {
                const end = cmd.indexOf("'", i + 1);
                value += cmd.slice(i + 1, end);
                i = end + 1;
            } else if (cmd[i] === "\\") {
                value += cmd[i + 1];
                i += 2;
            } else {
                value += cmd[i++];
            }
        }
        out[m[1]] = value;
        i++;
    }
    return out;
}

function bundledText(p: string): Buffer {
    if (!p.startsWith(`${BUNDLE_ROOT}/`)) throw new Error(`not a bundle path: ${p}`);
    const entry = p.slice(BUNDLE_ROOT.length + 1);
    const e = bundleEntries().entries.find((x) => x.entry === entry);
    if (!e) throw new Error(`no bundled file ${p}`);
    return e.data;
}

const trimEnd = (s: string) => s.replace(/\n+$/, "");

export interface StepReceived {
    /** Every variable the script sees: settings, bundled files' text, payload files. */
    vars: Record<string, string>;
    /** The secret handed on as the script's stdin, if any. */
    stdin?: string;
    /** The step script that runs (its text). */
    script: string;
}

/** Decode a step's inputs (`create` by default) as lib.sh would on the host. */
export function stepReceived(inputs: Record<string, any>, which: "create" | "delete" = "create"): StepReceived {
    // A non-root connection's steps run through `sudo -n env` (components/steps/host-step.ts `asRoot`): the same words after it.
    const cmd = String(inputs[which] ?? "").replace(/^sudo -n env /, "");
    const vars = commandAssignments(cmd);
    // Steps from the bundle end in `bash LIB STEP`; the facts probe and the bundle's own install are inline.
    const tail = /bash (\S+) (\S+)$/.exec(cmd);
    const script = tail && tail[2].startsWith(`${BUNDLE_ROOT}/`) ? bundledText(tail[2]).toString("utf8") : "";
    for (const e of (vars.AIHPC_FILES ?? "").split(" ").filter(Boolean)) {
        const [k, p] = [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)];
        vars[k] = trimEnd(bundledText(p).toString("utf8"));
    }
    for (const e of (vars.AIHPC_SETS ?? "").split(" ").filter(Boolean)) {
        const k = e.slice(0, e.indexOf("="));
        // lib.sh keeps the order of AIHPC_SETS, which stepCommand wrote from the component's record.
        const members = e.slice(e.indexOf("=") + 1).split(",");
        vars[k] = members.map((m) => fileSet({ [m.slice(0, m.indexOf(":"))]: bundledText(m.slice(m.indexOf(":") + 1)) })).join(" ");
    }
    let stdin: string | undefined;
    if (vars.AIHPC_PAYLOAD === "1") {
        const lines = String(inputs.stdin ?? "").split("\n");
        if (lines[0] !== "aihpc-payload 1") throw new Error(`stdin is not a payload: ${lines[0]}`);
        for (const line of lines.slice(1).filter(Boolean)) {
            const [k, b64] = line.split(" ");
            if (k === "-copied") {
                // VAR=PATH@SHA256: the text is the stack file this program wrote (components/steps/copied.ts).
                const sha = b64.slice(b64.lastIndexOf("@") + 1);
                const text = stackFileText(sha);
                if (text === undefined) throw new Error(`${b64}: no stack file with sha256 ${sha} was written by this program`);
                vars[b64.slice(0, b64.indexOf("="))] = trimEnd(text);
                continue;
            }
            const text = Buffer.from(b64, "base64").toString("utf8");
            if (k === "-stdin") stdin = text;
            else vars[k] = trimEnd(text);
        }
    } else if (typeof inputs.stdin === "string") {
        stdin = inputs.stdin;
    }
    return { vars, stdin, script };
}

/** The command plus every variable's text, one `VAR=text` block each: for `toContain` checks on what a host gets. */
export function stepText(inputs: Record<string, any>, which: "create" | "delete" = "create"): string {
    const r = stepReceived(inputs, which);
    return [String(inputs[which] ?? ""), ...Object.entries(r.vars).map(([k, v]) => `${k}=${v}`), r.script].join("\n");
}
