// Runs the real program under the SDK's mocks, but executes every
// `command:remote:Command`, `command:remote:CopyToRemote` and
// `command:local:Command` for real (over SSH to the testbed hosts, or locally
// through /bin/sh), so the exact command strings `pulumi up` would send are the
// ones tested. Reproduces @pulumi/command 1.x's semantics across applies with a
// state keyed by URN:
//   - create on first apply;
//   - inputs unchanged: nothing runs, the previous outputs are returned;
//   - `triggers` changed: replace, create-before-delete (the engine's default):
//     the new `create` runs in place, the old state's `delete` at the end;
//   - any other input changed (create, update, delete, stdin, environment,
//     connection...): update, which runs `update`, or `create` when unset;
//   - a resource whose last create/update failed is updated on the next apply
//     (the engine keeps it with an initialization error);
//   - a non-zero exit fails the resource with the provider's error text
//     (`Process exited with status N: running "<cmd>":` + stdout/stderr); after
//     the first failure no new step starts (in-flight ones finish), dependents
//     are never registered, and no delete runs; with `continueOnError`
//     (`pulumi up --continue-on-error`) every step that does not depend on a
//     failed one still runs;
//   - resources in state but not in the program are deleted at the end, with
//     their previous inputs, dependents first; `destroy()` deletes everything.
// SSH: one connection per command, like the provider (which dials per run),
// with its dial retries (`dialErrorLimit`, default 10), `perDialTimeout`, the
// pinned `hostKey` (StrictHostKeyChecking=yes; without a hostKey the provider
// checks nothing, and neither does this), key from `privateKey` in a 0600 file
// (an ed25519 key back from PKCS#8 to the OpenSSH format: forOpenSsh), or
// without one the agent of SSH_AUTH_SOCK.
import { spawn } from "child_process";
import { hostProcess } from "../../components/host-process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as sshpk from "sshpk";
import { defineStack } from "../../components/stack";
import { parseStackConfig } from "../../config";
import { mockState } from "../../tools/plan/mock-state";
import { NewResourceArgs, PlannedResource, reveal, runUnderMocks, SECRET_SIG, SIG_KEY } from "../../tools/plan/recorder";

export const REMOTE_COMMAND = "command:remote:Command";
export const COPY_TO_REMOTE = "command:remote:CopyToRemote";
export const LOCAL_COMMAND = "command:local:Command";
const RANDOM_BYTES = "random:index/randomBytes:RandomBytes";
const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";
const RANDOM_STRING = "random:index/randomString:RandomString";
const EXECUTED = new Set([REMOTE_COMMAND, COPY_TO_REMOTE, LOCAL_COMMAND]);

export type Op = "create" | "update" | "delete";

export interface RanCommand {
    urn: string;
    name: string;
    type: string;
    op: Op;
    /** `address` for SSH, `local` for local commands. */
    host: string;
    /** The command string as sent (never holds a secret by the program's design; stdin is not kept). */
    command: string;
    startedAt: number;
    durationMs: number;
    /** Exit status; null when the host could not be reached (dial failed). */
    exitCode: number | null;
    dialAttempts: number;
    stdout: string;
    stderr: string;
}

export interface StateEntry {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    custom: boolean;
    dependencies: string[];
    /** Plain inputs (secrets revealed): what the provider acts on, on update and delete. */
    inputs: Record<string, unknown>;
    /** What the resource returned (inputs plus stdout/stderr for commands). */
    outputs: Record<string, unknown>;
    /** The last create/update failed: the engine updates it on the next apply. */
    initError?: string;
}

export interface ExecState {
    resources: Record<string, StateEntry>;
}

export interface ResourceError {
    urn: string;
    name: string;
    op: Op;
    message: string;
}

export interface ApplyResult {
    /** Commands that ran, in start order. */
    ran: RanCommand[];
    /** Stack outputs, secrets revealed; {} when the program failed. */
    outputs: Record<string, unknown>;
    /** Resources the program registered (recorder form); [] when it failed. */
    resources: PlannedResource[];
    /** What each registered resource did: create/update/replace/same, or skipped after a failure. */
    steps: { urn: string; name: string; type: string; step: "create" | "update" | "replace" | "same" | "failed" | "skipped" }[];
    /** The first failure (as `pulumi up` would report it), if any. */
    error?: Error;
    /** Every resource that failed. */
    errors: ResourceError[];
    durationMs: number;
}

export interface PendingCommand {
    urn: string;
    name: string;
    type: string;
    op: Op;
    host: string;
    command: string;
    /** Index of this command in the current apply/destroy (0-based). */
    index: number;
}

export interface ExecutorOptions {
    /** The program; default: the stack's own (`defineStack(parseStackConfig(...))`). */
    program?: (config: Record<string, string>, secretKeys: string[]) => unknown;
    project?: string;
    stack?: string;
    /** Persist the state as JSON here (mode 0600: it holds the SSH key, as Pulumi's state does, encrypted). */
    stateFile?: string;
    /** Per-command limit (default 15 minutes). */
    commandTimeoutMs?: number;
    /** Called as each command starts (fault injection, progress). */
    onCommandStart?: (c: PendingCommand) => void | Promise<void>;
    /** Called after each command ends. */
    onCommandEnd?: (c: RanCommand) => void;
    log?: (msg: string) => void;
}

const SKIPPED = "not started, the deployment had already failed";

class SkippedError extends Error {
    constructor(name: string) {
        super(`${name}: ${SKIPPED}`);
        this.name = "SkippedError";
    }
}

/** A skipped registration, also once the SDK has wrapped it ("failed to register new resource X: ..."). */
function isSkipped(reason: unknown): boolean {
    return reason instanceof SkippedError || (reason instanceof Error && reason.message.endsWith(SKIPPED));
}

/** Deep equality of JSON-like values (undefined object members ignored). */
export function sameValue(a: unknown, b: unknown): boolean {
    return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(normalize);
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
        Object.keys(o)
            .filter((k) => o[k] !== undefined)
            .sort()
            .map((k) => [k, normalize(o[k])]),
    );
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- inputs: plain values, assets as content hashes ---------------------------

/** Assets and archives as the SDK deserializes them, made comparable (by content) and usable. */
async function plainInputs(v: unknown): Promise<unknown> {
    if (Array.isArray(v)) return Promise.all(v.map(plainInputs));
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    // Secrets can still arrive in their wire envelope (nested in a secret object).
    if (o[SIG_KEY] === SECRET_SIG) return plainInputs(o.value);
    const ctor = (o.constructor as { name?: string } | undefined)?.name;
    if (ctor === "FileAsset" || ctor === "FileArchive") {
        const p = String(await (o.path as Promise<string>));
        return { __asset: ctor, path: p, sha256: hashPath(p) };
    }
    if (ctor === "StringAsset") {
        const text = String(await (o.text as Promise<string>));
        return { __asset: ctor, text, sha256: createHash("sha256").update(text).digest("hex") };
    }
    if (ctor === "RemoteAsset" || ctor === "RemoteArchive" || ctor === "AssetArchive") {
        throw new Error(`the testbed executor does not support ${ctor} sources`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = await plainInputs(x);
    return out;
}

function hashPath(p: string): string {
    const h = createHash("sha256");
    const walk = (f: string, rel: string) => {
        const st = fs.statSync(f);
        if (st.isDirectory()) {
            for (const c of fs.readdirSync(f).sort()) walk(path.join(f, c), `${rel}/${c}`);
        } else {
            h.update(`${rel}\0${st.mode & 0o777}\0`);
            h.update(fs.readFileSync(f));
        }
    };
    walk(p, ".");
    return h.digest("hex");
}

// ---- running commands -----------------------------------------------------------

interface Connection {
    host: string;
    port?: number;
    user?: string;
    privateKey?: string;
    hostKey?: string;
    dialErrorLimit?: number;
    perDialTimeout?: number;
    password?: string;
    proxy?: unknown;
}

interface RunOutcome {
    stdout: string;
    stderr: string;
    exitCode: number | null;
    dialAttempts: number;
    dialError?: string;
}

/**
 * The key as ssh(1) reads it. The program hands ed25519 keys on in PKCS#8
 * (config/ssh-private-key.ts), which the provider's Go parser reads and
 * Debian 12's OpenSSH 9.2 does not: back to the OpenSSH format for it.
 */
export function forOpenSsh(key: string): string {
    if (/^-----BEGIN PRIVATE KEY-----/.test(key.trim())) return sshpk.parsePrivateKey(key, "pkcs8").toString("openssh");
    return key.endsWith("\n") ? key : `${key}\n`;
}

/** Build the ssh argument list for a provider `connection` (key and known_hosts files under `dir`). */
export function sshArgsFor(conn: Connection, dir: string, marker: string, env?: Record<string, string>): string[] {
    if (conn.password !== undefined || conn.proxy !== undefined) {
        throw new Error("the testbed executor supports key authentication only (no password, no proxy)");
    }
    const port = Number(conn.port ?? 22);
    const args = ["-F", "/dev/null", "-p", String(port), "-o", "BatchMode=yes"];
    if (conn.privateKey) {
        const id = createHash("sha256").update(conn.privateKey).digest("hex").slice(0, 16);
        const keyFile = path.join(dir, `key-${id}`);
        if (!fs.existsSync(keyFile)) {
            fs.writeFileSync(keyFile, forOpenSsh(conn.privateKey), { mode: 0o600 });
        }
        args.push("-i", keyFile, "-o", "IdentitiesOnly=yes");
    } else {
        // No key: the agent of SSH_AUTH_SOCK, as the provider does. An identity
        // file that is not there keeps ssh from trying ~/.ssh's default keys.
        if (!process.env.SSH_AUTH_SOCK) throw new Error("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none], no supported methods remain (no privateKey and no SSH_AUTH_SOCK)");
        args.push("-o", `IdentityAgent=${process.env.SSH_AUTH_SOCK}`, "-o", `IdentityFile=${path.join(dir, "no-key")}`, "-o", "IdentitiesOnly=no");
    }
    if (conn.hostKey) {
        const [kind, blob] = conn.hostKey.trim().split(/\s+/);
        const name = port === 22 ? conn.host : `[${conn.host}]:${port}`;
        const kh = path.join(dir, `known_hosts-${createHash("sha256").update(`${name} ${kind} ${blob}`).digest("hex").slice(0, 16)}`);
        if (!fs.existsSync(kh)) fs.writeFileSync(kh, `${name} ${kind} ${blob}\n`, { mode: 0o600 });
        args.push("-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${kh}`, "-o", `HostKeyAlgorithms=${kind}`);
    } else {
        // The provider checks nothing without a hostKey.
        args.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null");
    }
    args.push(
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", `ConnectTimeout=${Math.max(1, Math.round(Number(conn.perDialTimeout ?? 15)))}`,
        "-o", "ServerAliveInterval=5",
        "-o", "ServerAliveCountMax=6",
        "-o", "LogLevel=ERROR",
        // Runs only once the connection is up and authenticated: tells a dial
        // failure (retried, like the provider) from a command's own exit 255.
        "-o", "PermitLocalCommand=yes",
        "-o", `LocalCommand=touch ${marker}`,
    );
    for (const [k, v] of Object.entries(env ?? {})) args.push("-o", `SetEnv=${k}="${v.replace(/"/g, "")}"`);
    args.push(`${conn.user ?? "root"}@${conn.host}`);
    return args;
}

function runProcess(file: string, args: string[], stdin: Buffer | string | undefined, timeoutMs: number, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ stdout: string; stderr: string; code: number; timedOut: boolean }> {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], cwd: opts.cwd, env: opts.env ?? process.env });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (d: Buffer) => out.push(d));
        child.stderr.on("data", (d: Buffer) => err.push(d));
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
        }, timeoutMs);
        child.once("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
        child.once("close", (code, sig) => {
            clearTimeout(timer);
            resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), code: code ?? (sig ? 128 : 1), timedOut });
        });
        child.stdin.on("error", () => undefined); // the command may exit before reading stdin
        child.stdin.end(stdin ?? "");
    });
}

export class Executor {
    public state: ExecState = { resources: {} };
    private readonly opts: ExecutorOptions;
    private readonly tmp: string;
    private ran: RanCommand[] = [];
    private errors: ResourceError[] = [];
    private failed = false;
    private commandIndex = 0;

    constructor(opts: ExecutorOptions = {}) {
        this.opts = opts;
        this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-exec-"));
        fs.chmodSync(this.tmp, 0o700);
        if (opts.stateFile && fs.existsSync(opts.stateFile)) {
            this.state = JSON.parse(fs.readFileSync(opts.stateFile, "utf8")) as ExecState;
        }
    }

    /** Remove the temp dir holding key copies (the state stays). */
    dispose(): void {
        this.generation++; // registrations still pending from the last apply run nothing
        fs.rmSync(this.tmp, { recursive: true, force: true });
    }

    private log(m: string): void {
        this.opts.log?.(m);
    }

    private save(): void {
        if (!this.opts.stateFile) return;
        const f = this.opts.stateFile;
        fs.writeFileSync(`${f}.tmp`, JSON.stringify(this.state, null, 1), { mode: 0o600 });
        fs.renameSync(`${f}.tmp`, f);
    }

    /** Bumped by every apply and destroy: registrations of an earlier one that are still pending run nothing. */
    private generation = 0;

    private reset(): void {
        this.generation++;
        this.ran = [];
        this.errors = [];
        this.failed = false;
        this.commandIndex = 0;
    }

    /** `pulumi up` of the program for this raw CLI config (`aihpc:key` -> string). */
    async apply(config: Record<string, string>, secretKeys: string[] = [], opts: { continueOnError?: boolean } = {}): Promise<ApplyResult> {
        const t0 = Date.now();
        this.reset();
        const generation = this.generation;
        const steps: ApplyResult["steps"] = [];
        const registered = new Set<string>();
        const replacedOld: StateEntry[] = [];
        const program =
            this.opts.program ?? ((c: Record<string, string>, s: string[]) => defineStack(parseStackConfig(c, new Set(s), this.opts.stack ?? "testbed")));

        const inFlight = new Set<string>();
        const debug = process.env.AIHPC_EXEC_DEBUG
            ? setInterval(() => {
                  // eslint-disable-next-line @typescript-eslint/no-require-imports
                  const store = require("@pulumi/pulumi/runtime/state").getStore();
                  const ctx = [...(store.leakCandidates as Set<{ _debugCtx?: string }>)].map((p) => String(p._debugCtx).slice(0, 160));
                  const other = ctx.filter((c) => !/^(resolve|transfer)/.test(c));
                  this.log(`in flight: ${[...inFlight].join(", ") || "none"}; pending SDK promises: ${ctx.length}; not resolvers: ${other.join(" | ")}`);
              }, 10_000)
            : undefined;
        const hook = async (args: NewResourceArgs): Promise<Record<string, unknown> | undefined> => {
            inFlight.add(args.name);
            try {
                return await hookInner(args);
            } finally {
                inFlight.delete(args.name);
            }
        };
        let closed = false;
        const hookInner = async (args: NewResourceArgs): Promise<Record<string, unknown> | undefined> => {
            // A registration of an apply that was given up (see `stalled`) must not run anything.
            if (closed) throw new SkippedError(args.name);
            registered.add(args.urn);
            const inputs = (await plainInputs(args.inputs)) as Record<string, unknown>;
            // Given up (or a later apply or destroy began) while its inputs resolved: run nothing.
            if (closed || generation !== this.generation) throw new SkippedError(args.name);
            const base: StateEntry = {
                urn: args.urn,
                type: args.type,
                name: args.name,
                parent: args.parent,
                custom: Boolean(args.custom),
                dependencies: args.dependencies,
                inputs,
                outputs: {},
            };
            const old = this.state.resources[args.urn];
            if (!args.custom) {
                this.state.resources[args.urn] = base;
                return undefined;
            }
            if (!EXECUTED.has(args.type)) return this.otherResource(base, old, steps);

            if (this.failed && !opts.continueOnError) {
                steps.push({ urn: args.urn, name: args.name, type: args.type, step: "skipped" });
                throw new SkippedError(args.name);
            }
            let step: "create" | "update" | "replace" | "same";
            if (!old) step = "create";
            else if (!sameValue(old.inputs.triggers, inputs.triggers)) step = "replace";
            else if (old.initError !== undefined || !sameValue(old.inputs, inputs)) step = "update";
            else step = "same";
            if (step === "same") {
                steps.push({ urn: args.urn, name: args.name, type: args.type, step });
                this.state.resources[args.urn] = { ...old, parent: args.parent, dependencies: args.dependencies };
                return old.outputs;
            }
            if (generation !== this.generation) throw new SkippedError(args.name);
            const op: Op = step === "update" ? "update" : "create";
            const cmd = op === "update" ? ((inputs.update as string | undefined) ?? (inputs.create as string | undefined)) : (inputs.create as string | undefined);
            try {
                const outputs = await this.execute(base, op, cmd, old?.outputs);
                if (step === "replace") replacedOld.push(old!);
                this.state.resources[args.urn] = { ...base, outputs };
                steps.push({ urn: args.urn, name: args.name, type: args.type, step });
                this.save();
                return outputs;
            } catch (e) {
                this.failed = true;
                const message = (e as Error).message;
                this.errors.push({ urn: args.urn, name: args.name, op, message });
                steps.push({ urn: args.urn, name: args.name, type: args.type, step: "failed" });
                // Kept with an initialization error, as the engine does with a
                // provider's partial state; a failed replacement keeps the old one too.
                if (step === "replace") replacedOld.push(old!);
                this.state.resources[args.urn] = { ...base, outputs: old?.outputs ?? {}, initError: message };
                this.save();
                throw e;
            }
        };

        let run: Awaited<ReturnType<typeof runUnderMocks>> | undefined;
        let error: Error | undefined;
        let programError: Error | undefined;
        // A failed resource rejects its Outputs, and what was derived from them
        // rejects unhandled. Node's language host exits on the first unhandled
        // rejection and the engine starts no new step: so do we. Those
        // rejections must not reach the test runner either.
        const proc = hostProcess();
        const previous = proc.rawListeners("unhandledRejection") as ((reason: unknown, promise: Promise<unknown>) => void)[];
        proc.removeAllListeners("unhandledRejection");
        const onRejection = (reason: unknown) => {
            // A skipped registration is no error of this program (it may even be a late one of an earlier apply).
            if (isSkipped(reason)) return;
            if (!this.failed) {
                programError = reason instanceof Error ? reason : new Error(String(reason));
            }
            this.failed = true;
        };
        proc.on("unhandledRejection", onRejection);
        // Under the mocks a resource waiting on a failed one may wait forever
        // (the SDK never resolves the URN of a resource whose inputs failed):
        // once failed and no step is in flight, the deployment is over.
        let stopWatch = false;
        const stalled = (async () => {
            let idleSince = 0;
            while (!stopWatch) {
                await sleep(200);
                if (!this.failed || inFlight.size > 0) idleSince = 0;
                else if (idleSince === 0) idleSince = Date.now();
                else if (Date.now() - idleSince > 2000) return "stalled" as const;
            }
            return "done" as const;
        })();
        try {
            const running = runUnderMocks(() => program(config, secretKeys), {
                project: this.opts.project ?? "aihpc",
                stack: this.opts.stack ?? "testbed",
                config,
                secretKeys,
                preview: false,
                newResource: hook,
            });
            running.catch(() => undefined); // settles after a stall, if ever
            // Continuing on error, the program's rejection (a failed step) ends nothing:
            // what does not depend on the failure registers on, until nothing moves.
            // A rejection with no failed step (the program itself threw) ends the apply as usual.
            const first = await Promise.race([opts.continueOnError ? running.catch((e) => (this.errors.length > 0 ? stalled : Promise.reject(e))) : running, stalled]);
            if (first === "stalled") closed = true;
            else run = first as Awaited<ReturnType<typeof runUnderMocks>>;
        } catch (e) {
            error = e as Error;
        } finally {
            stopWatch = true;
            // The program's first failure rejects the run at once, but the engine lets the steps
            // under way finish: wait for them. What the program registers after that (dependents of
            // those steps) is refused here, while this apply's mocks are still the SDK's, so that
            // none of it reaches the next apply.
            closed = true;
            while (inFlight.size > 0) await sleep(100);
            // Rejections are reported after the microtask queue drains; late registrations come a few ticks after.
            await sleep(300);
            if (debug) clearInterval(debug);
            proc.removeListener("unhandledRejection", onRejection);
            // Registrations this apply gave up may still reject, skipped, after it returns: keep those from
            // the test runner; anything else reaches the listeners that were there before.
            proc.on("unhandledRejection", (reason: unknown, promise: Promise<unknown>) => {
                if (!isSkipped(reason)) for (const l of previous) l(reason, promise);
            });
        }
        if (this.errors.length > 0) error = new Error(this.errors[0].message);
        else if (programError) error = programError;
        if (error) this.failed = true;
        if (run) this.checkOptions(run.resources);

        // Deletes only when the whole program ran: the engine stops at the first error.
        if (!this.failed) {
            const removed = Object.values(this.state.resources).filter((r) => !registered.has(r.urn));
            await this.deleteAll([...removed, ...replacedOld.map((r) => ({ ...r, urn: `${r.urn}#replaced` }))], removed);
            if (this.errors.length > 0) error = new Error(this.errors[0].message);
        }
        this.save();
        return {
            ran: this.ran,
            outputs: run ? (reveal(run.outputs) as Record<string, unknown>) : {},
            resources: run?.resources ?? [],
            steps,
            error,
            errors: this.errors,
            durationMs: Date.now() - t0,
        };
    }

    /** `pulumi destroy`: every resource's delete, dependents first, with the state's inputs. */
    async destroy(): Promise<ApplyResult> {
        const t0 = Date.now();
        this.reset();
        const all = Object.values(this.state.resources);
        await this.deleteAll(all, all);
        this.save();
        return {
            ran: this.ran,
            outputs: {},
            resources: [],
            steps: [],
            error: this.errors.length ? new Error(this.errors[0].message) : undefined,
            errors: this.errors,
            durationMs: Date.now() - t0,
        };
    }

    /** Options the executor does not model must not go unnoticed. */
    private checkOptions(resources: PlannedResource[]): void {
        for (const r of resources) {
            if (!EXECUTED.has(r.type)) continue;
            const o = r.options;
            const extra = o.replaceOnChanges.filter((k) => k !== "triggers[*]");
            if (o.deleteBeforeReplace || o.retainOnDelete || o.ignoreChanges.length > 0 || extra.length > 0) {
                throw new Error(`${r.name}: resource options ${JSON.stringify(o)} are not modelled by the testbed executor`);
            }
        }
    }

    /** Random resources get real random values, kept while their inputs stay; others the plan's mock state. */
    private otherResource(base: StateEntry, old: StateEntry | undefined, steps: ApplyResult["steps"]): Record<string, unknown> {
        if (old && sameValue(old.inputs, base.inputs)) {
            this.state.resources[base.urn] = { ...old, parent: base.parent, dependencies: base.dependencies };
            steps.push({ urn: base.urn, name: base.name, type: base.type, step: "same" });
            return old.outputs;
        }
        const i = base.inputs;
        let computed: Record<string, unknown>;
        if (base.type === RANDOM_BYTES) {
            const b = randomBytes(Number(i.length ?? 32));
            computed = { base64: b.toString("base64"), hex: b.toString("hex") };
        } else if (base.type === RANDOM_PASSWORD || base.type === RANDOM_STRING) {
            const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            const b = randomBytes(Number(i.length ?? 16));
            computed = { result: [...b].map((x) => alphabet[x % alphabet.length]).join("") };
        } else {
            computed = mockState(base.type, base.name, i as never, { project: this.opts.project ?? "aihpc", stack: this.opts.stack ?? "testbed" });
        }
        const outputs = { ...i, ...computed };
        this.state.resources[base.urn] = { ...base, outputs };
        steps.push({ urn: base.urn, name: base.name, type: base.type, step: old ? "replace" : "create" });
        return outputs;
    }

    /**
     * Delete `entries` (state entries; a replaced instance has `#replaced` on its
     * URN), each after everything that depends on it, concurrently otherwise.
     * `drop` are removed from the state when their delete succeeds.
     */
    private async deleteAll(entries: StateEntry[], drop: StateEntry[]): Promise<void> {
        const byKey = new Map(entries.map((e) => [e.urn, e]));
        const realUrn = (k: string) => k.replace(/#replaced$/, "");
        const dependents = new Map<string, StateEntry[]>();
        for (const e of entries) {
            for (const d of [...e.dependencies, ...(e.parent ? [e.parent] : [])]) {
                for (const key of [d, `${d}#replaced`]) {
                    if (byKey.has(key) && key !== e.urn) dependents.set(key, [...(dependents.get(key) ?? []), e]);
                }
            }
        }
        const memo = new Map<string, Promise<boolean>>();
        const dropKeys = new Set(drop.map((d) => d.urn));
        const del = (e: StateEntry): Promise<boolean> => {
            let p = memo.get(e.urn);
            if (p) return p;
            p = (async () => {
                const waits = await Promise.all((dependents.get(e.urn) ?? []).map(del));
                if (waits.some((ok) => !ok)) return false;
                if (this.failed && this.errors.length > 0) return false; // the engine stops at the first failed delete
                if (EXECUTED.has(e.type)) {
                    const cmd = e.type === COPY_TO_REMOTE ? undefined : (e.inputs.delete as string | undefined);
                    if (cmd !== undefined) {
                        try {
                            await this.execute(e, "delete", cmd, e.outputs);
                        } catch (err) {
                            this.failed = true;
                            this.errors.push({ urn: realUrn(e.urn), name: e.name, op: "delete", message: (err as Error).message });
                            return false;
                        }
                    }
                }
                if (dropKeys.has(e.urn)) delete this.state.resources[e.urn];
                this.save();
                return true;
            })();
            memo.set(e.urn, p);
            return p;
        };
        await Promise.all(entries.map(del));
    }

    /** Run one operation of an executed resource; returns its outputs or throws the provider's error. */
    private async execute(e: StateEntry, op: Op, cmd: string | undefined, prevOutputs: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
        const i = e.inputs;
        if (e.type === COPY_TO_REMOTE) {
            await this.copyToRemote(e, op);
            return { ...i };
        }
        if (cmd === undefined) {
            // No command for this operation: the provider returns without running anything.
            return { ...i, stdout: op === "update" ? (prevOutputs?.stdout ?? "") : "", stderr: op === "update" ? (prevOutputs?.stderr ?? "") : "" };
        }
        const res = await this.run(e, op, cmd, typeof i.stdin === "string" && i.stdin.length > 0 ? i.stdin : undefined, prevOutputs);
        if (res.dialError !== undefined) {
            throw new Error(`${e.name} (${e.urn}): ${op}: ${res.dialError}`);
        }
        if (res.exitCode !== 0) {
            // The provider's text: `<err>: running "<cmd>":\n<stdout and stderr>`.
            const shown = cmd.length > 400 ? `${cmd.slice(0, 400)}...(${cmd.length} chars)` : cmd;
            throw new Error(
                `${e.name} (${e.urn}): ${op}: Process exited with status ${res.exitCode}: running ${JSON.stringify(shown)}:\n${res.stdout}${res.stderr}`,
            );
        }
        return { ...i, stdout: res.stdout.replace(/\n$/, ""), stderr: res.stderr.replace(/\n$/, "") };
    }

    private async run(e: StateEntry, op: Op, cmd: string, stdin: string | Buffer | undefined, prev?: Record<string, unknown>): Promise<RunOutcome> {
        const i = e.inputs;
        const local = e.type === LOCAL_COMMAND;
        const conn = i.connection as Connection | undefined;
        const host = local ? "local" : (conn?.host ?? "?");
        const pending: PendingCommand = { urn: e.urn.replace(/#replaced$/, ""), name: e.name, type: e.type, op, host, command: cmd, index: this.commandIndex++ };
        const startedAt = Date.now();
        this.log(`${op} ${e.name} on ${host}`);
        await this.opts.onCommandStart?.(pending);
        const timeoutMs = this.opts.commandTimeoutMs ?? 900_000;
        let outcome: RunOutcome;
        if (local) {
            const interpreter = (i.interpreter as string[] | undefined) ?? ["/bin/sh", "-c"];
            const env: NodeJS.ProcessEnv = { ...process.env, ...((i.environment as Record<string, string> | undefined) ?? {}) };
            if (i.addPreviousOutputInEnv !== false && prev) {
                if (prev.stdout) env.PULUMI_COMMAND_STDOUT = String(prev.stdout);
                if (prev.stderr) env.PULUMI_COMMAND_STDERR = String(prev.stderr);
            }
            const r = await runProcess(interpreter[0], [...interpreter.slice(1), cmd], stdin, timeoutMs, { cwd: i.dir as string | undefined, env });
            outcome = { stdout: r.stdout, stderr: r.stderr + (r.timedOut ? `\n(killed after ${timeoutMs} ms)` : ""), exitCode: r.code, dialAttempts: 0 };
        } else {
            if (!conn) throw new Error(`${e.name}: no connection`);
            const env: Record<string, string> = { ...((i.environment as Record<string, string> | undefined) ?? {}) };
            if (i.addPreviousOutputInEnv !== false && prev) {
                if (prev.stdout) env.PULUMI_COMMAND_STDOUT = String(prev.stdout);
                if (prev.stderr) env.PULUMI_COMMAND_STDERR = String(prev.stderr);
            }
            outcome = await this.ssh(conn, cmd, stdin, timeoutMs, env);
        }
        const rec: RanCommand = {
            ...pending,
            startedAt,
            durationMs: Date.now() - startedAt,
            exitCode: outcome.exitCode,
            dialAttempts: outcome.dialAttempts,
            stdout: outcome.stdout,
            stderr: outcome.stderr,
        };
        delete (rec as Partial<PendingCommand>).index;
        this.ran.push(rec);
        this.opts.onCommandEnd?.(rec);
        return outcome;
    }

    /** One SSH "session" with the provider's dial retries (retry.Until: 100 ms, x1.5, at most 5 s between). */
    private async ssh(conn: Connection, cmd: string, stdin: string | Buffer | undefined, timeoutMs: number, env: Record<string, string>): Promise<RunOutcome> {
        const limit = conn.dialErrorLimit === undefined ? 10 : Number(conn.dialErrorLimit);
        let delay = 100;
        for (let dials = 1; ; dials++) {
            const marker = path.join(this.tmp, `connected-${randomBytes(6).toString("hex")}`);
            const args = sshArgsFor(conn, this.tmp, marker, env);
            const r = await runProcess("ssh", [...args, "--", cmd], stdin, timeoutMs);
            const connected = fs.existsSync(marker);
            fs.rmSync(marker, { force: true });
            if (connected || r.code !== 255) {
                const killed = r.timedOut ? `\n(killed after ${timeoutMs} ms)` : "";
                return { stdout: r.stdout, stderr: r.stderr + killed, exitCode: r.timedOut ? 124 : r.code, dialAttempts: dials };
            }
            const why = r.stderr.trim() || `ssh exited ${r.code}`;
            if (limit >= 0 && dials >= limit) {
                return {
                    stdout: "",
                    stderr: why,
                    exitCode: null,
                    dialAttempts: dials,
                    dialError: `could not connect to ${conn.user ?? "root"}@${conn.host}:${conn.port ?? 22} after ${dials} attempt${dials === 1 ? "" : "s"}: ${why}`,
                };
            }
            await sleep(delay);
            delay = Math.min(5000, delay * 1.5);
        }
    }

    /** CopyToRemote: the source (file, string or directory) to remotePath; nothing on delete (like the provider). */
    private async copyToRemote(e: StateEntry, op: Op): Promise<void> {
        if (op === "delete") return;
        const src = e.inputs.source as { __asset: string; path?: string; text?: string } | undefined;
        const remotePath = String(e.inputs.remotePath);
        if (!src) throw new Error(`${e.name}: no source`);
        if (src.__asset === "FileArchive" || (src.path && fs.statSync(src.path).isDirectory())) {
            throw new Error(`${e.name}: directory sources are not supported by the testbed executor (the program copies files only)`);
        }
        const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
        const data = src.path ? fs.readFileSync(src.path) : Buffer.from(src.text ?? "", "utf8");
        const base = src.path ? path.basename(src.path) : "asset";
        // Into the directory when remotePath is one, as an sftp copy would.
        const cmd = `if [ -d ${q(remotePath)} ]; then cat > ${q(`${remotePath}/${base}`)}; else cat > ${q(remotePath)}; fi`;
        const res = await this.run(e, op, cmd, data);
        if (res.dialError !== undefined) throw new Error(`${e.name} (${e.urn}): ${op}: ${res.dialError}`);
        if (res.exitCode !== 0) throw new Error(`${e.name} (${e.urn}): ${op}: copy to ${remotePath} failed (${res.exitCode}): ${res.stdout}${res.stderr}`);
    }
}

/** Commands of one apply by op, for assertions: `{create: 3, update: 1, delete: 0}`. */
export function countOps(ran: RanCommand[]): Record<Op, number> {
    const c: Record<Op, number> = { create: 0, update: 0, delete: 0 };
    for (const r of ran) c[r.op]++;
    return c;
}

/** `N commands (create a, update b, delete c)`, for logs. */
export function opsSummary(ran: RanCommand[]): string {
    const c = countOps(ran);
    return `${ran.length} commands (create ${c.create}, update ${c.update}, delete ${c.delete})`;
}
