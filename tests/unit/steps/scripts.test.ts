// Every shell script under components/**/scripts, found by a glob, so that no
// component can slip out of these checks: a step (a script some component
// runs with scriptStep, `file: "X.sh"` in its folder's TypeScript) parses and
// is shellcheck-clean with lib.sh in front, answers AIHPC_ACTION, ends in
// aihpc_done (changed/unchanged), and does apt work only through lib.sh (lock,
// retries, teardown records); every other script is a program that runs on
// its own (named below) and is shellcheck-clean as it is. (tools/shellcheck.sh
// lints every script in the repository too, but tells steps by `aihpc_done`.)
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stepScript } from "../../../components/steps";
import { requireTool } from "../../helpers/tools";

const COMPONENTS = path.resolve(__dirname, "..", "..", "..", "components");

/** Scripts that are not steps: the library, the bundle installer, the facts probe, programs installed on hosts. */
const PROGRAMS = new Set(
    [
        "steps/scripts/lib.sh",
        "steps/scripts/bundle.sh",
        "workstation/host/scripts/facts.sh",
        "workstation/slurm/scripts/node-health.sh",
        "workstation/slurm/scripts/gpu-epilog.sh",
        "workstation/slurm/scripts/drain-removed.sh",
        "workstation/slurm/scripts/slurmdbd-backup.sh",
        "workstation/slurm/scripts/slurmdbd-restore.sh",
        "workstation/monitoring/scripts/slurm-metrics.sh",
        "workstation/monitoring/scripts/gpu-metrics.sh",
        "workstation/acceptance/scripts/build.sh",
        // The cloud nodes' and the tunnel gateway's startup scripts (Google's guest agent runs them on the instance, not steps).
        "gcp/cloud-nodes/scripts/node-bootstrap.sh",
        "gcp/cloud-nodes/scripts/gateway-bootstrap.sh",
    ].map((p) => path.join(COMPONENTS, p)),
);

function walk(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

const all = walk(COMPONENTS);
/** components/**\/scripts/*.sh */
const scripts = all.filter((f) => f.endsWith(".sh") && path.basename(path.dirname(f)) === "scripts").sort();

/** The scripts a component runs as steps: `file: "X.sh"` in a .ts file of the folder that holds scripts/. */
function isStep(script: string): boolean {
    const component = path.dirname(path.dirname(script));
    const name = path.basename(script);
    return all.filter((f) => f.endsWith(".ts") && f.startsWith(`${component}${path.sep}`)).some((f) => fs.readFileSync(f, "utf8").includes(`file: "${name}"`));
}

const rel = (f: string) => path.relative(COMPONENTS, f);
const steps = scripts.filter(isStep);
const programs = scripts.filter((f) => !isStep(f));

describe("every script under components/**/scripts", () => {
    test("the glob finds the steps of every component, and nothing else is left unclassified", () => {
        expect(steps.length).toBeGreaterThan(40);
        for (const c of ["steps", "workstation/base-system", "workstation/nvidia", "workstation/containers", "workstation/ml-runtime", "workstation/slurm", "workstation/monitoring", "workstation/acceptance", "hybrid/identity", "hybrid/data", "hybrid/burst", "hybrid/cloud-nodes"]) {
            expect([c, steps.some((s) => rel(s).startsWith(`${c}/`))]).toEqual([c, true]);
        }
        // A script no component runs and that is not a known program is a step someone forgot to wire (or dead code).
        expect(programs.filter((p) => !PROGRAMS.has(p)).map(rel)).toEqual([]);
        expect([...PROGRAMS].filter((p) => !fs.existsSync(p)).map(rel)).toEqual([]);
    });

    test.each(steps.map((f) => [rel(f), f]))("step %s: lib.sh in front, parses, shellcheck-clean, apply/delete, changed/unchanged, apt through lib.sh", (_r, f) => {
        const text = stepScript(path.dirname(f), path.basename(f));
        expect(spawnSync("bash", ["-n"], { input: text }).status).toBe(0);
        const body = fs.readFileSync(f, "utf8");
        expect(body).toMatch(/case "\$AIHPC_ACTION" in/);
        expect(body.trimEnd().split("\n").pop()).toBe("aihpc_done");
        const r = spawnSync(requireTool("shellcheck"), ["-s", "bash", "-"], { input: text, encoding: "utf8" });
        expect(r.stdout).toBe("");
        // Every apt-get and dpkg install goes through the library (lock timeout, retries, teardown records).
        expect(body.split("\n").filter((l) => /^\s*(apt-get|apt|dpkg -i|aptitude) /.test(l))).toEqual([]);
    });

    test.each(programs.map((f) => [rel(f), f]))("program %s: shellcheck-clean on its own", (_r, f) => {
        const r = spawnSync(requireTool("shellcheck"), [f], { encoding: "utf8" });
        expect(r.stdout).toBe("");
    });

    test("the library waits for the dpkg lock and never prompts", () => {
        const lib = fs.readFileSync(path.join(COMPONENTS, "steps", "scripts", "lib.sh"), "utf8");
        expect(lib).toContain("-o DPkg::Lock::Timeout=600");
        expect(lib).toContain("DEBIAN_FRONTEND=noninteractive");
    });
});

/**
 * Steps whose files are not all rendered in TypeScript yet, and why. Every
 * other step installs only text it was given (a setting, a rendered or bundled
 * file, a file set), or text the host itself produced (nvidia-ctk, jq edits of
 * a user's own JSON, a copy of a file the step installed).
 */
const RENDERS_ITSELF: Record<string, string> = {
    // The admin password's environment file: the secret from stdin in Grafana's variable.
    "workstation/monitoring/scripts/grafana-config.sh": "secret env file",
    // The gcsfuse unit's --gid is the research group's id on the host, created by the base system after the facts probe.
    "hybrid/data/scripts/data.sh": "host gid",
    // The retain flag is the setting itself (`retain=true|false`).
    "steps/scripts/retain.sh": "flag",
};

/** Lower-case variables a step may install: copies of its inputs, or host JSON edited with jq. */
const FROM_INPUTS: Record<string, string[]> = {
    // SLURM_CONF, unset before scontrol runs (Slurm reads SLURM_CONF as a path).
    "workstation/slurm/scripts/config.sh": ["slurm_conf"],
    // The rendered credentials' file from stdin (a secret: never a setting).
    "workstation/base-system/scripts/apt-proxy.sh": ["cred"],
    // Each user's lines of USER_KEYS.
    "workstation/base-system/scripts/users.sh": ["keys"],
    // CREDENTIAL_CONFIG with this copy's path set by jq; the private key from stdin.
    "hybrid/identity/scripts/credentials.sh": ["cred", "key"],
    // The webhook secret from stdin.
    "workstation/monitoring/scripts/alertmanager.sh": ["value"],
    // The user's own Docker config, edited with jq.
    "hybrid/identity/scripts/docker-auth.sh": ["new"],
};

test("steps install the files they are given: TypeScript renders them (no text of their own in aihpc_put)", () => {
    const offenders: string[] = [];
    for (const f of steps) {
        if (RENDERS_ITSELF[rel(f)]) continue;
        const own = (FROM_INPUTS[rel(f)] ?? []).join("|");
        // The content (last word): an input ($UPPER_CASE), host output read back ($(cat ...), $(jq ...)), or a listed copy.
        const given = new RegExp(`"(\\$\\{?[A-Z][A-Z0-9_]*\\}?|\\$\\((cat|jq) .*\\)${own ? `|\\$(${own})` : ""})"$`);
        for (const [i, l] of fs.readFileSync(f, "utf8").split("\n").entries()) {
            if (/^\s*aihpc_put /.test(l) && !given.test(l)) offenders.push(`${rel(f)}:${i + 1}: ${l.trim().slice(0, 80)}`);
        }
        // Nor by heredoc, tee, or sed -i (but on lib.sh's own records under $AIHPC_STATE).
        for (const [i, l] of fs.readFileSync(f, "utf8").split("\n").entries()) {
            if (/<<-?\s*['"]?[A-Z]+|\btee /.test(l) || (/\bsed -i\b/.test(l) && !l.includes("$AIHPC_STATE/"))) offenders.push(`${rel(f)}:${i + 1}: ${l.trim().slice(0, 80)}`);
        }
    }
    expect(offenders).toEqual([]);
});
