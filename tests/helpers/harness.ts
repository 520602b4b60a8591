// Test helpers shared by every suite: run the program or one component under
// the SDK's mocks and look at what it registered.
import * as path from "path";
import { ConfigError, parseStackConfig, StackConfig } from "../../config";
import { defineStack } from "../../components/stack";
import { PlannedResource, reveal, RunOptions, RunResult, runUnderMocks } from "../../tools/plan/recorder";
import { readStackFile } from "../../tools/plan/stackfile";

export { reveal, containsSecret } from "../../tools/plan/recorder";
export type { PlannedResource } from "../../tools/plan/recorder";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Raw config as a stack file would give it: `aihpc:` keys to plain values. */
export interface RawConfig {
    [key: string]: unknown;
}

/** `{workstation: {...}}` plus secret key names -> what the CLI hands a program. */
export function toCliConfig(raw: RawConfig, secrets: string[] = []): { config: Record<string, string>; secretKeys: string[] } {
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
        const key = k.includes(":") ? k : `aihpc:${k}`;
        config[key] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return { config, secretKeys: secrets.map((s) => (s.includes(":") ? s : `aihpc:${s}`)) };
}

/** Every problem of a raw config as `path: message` lines; [] when it is valid. */
export function configProblems(raw: RawConfig, secrets: string[] = ["sshPrivateKey"]): string[] {
    try {
        parseConfig(raw, secrets);
        return [];
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems.map((p) => `${p.path}: ${p.message}`);
    }
}

/** The problems of a raw config that must be invalid (fails the test when it is accepted). */
export function rejectedProblems(raw: RawConfig, secrets: string[] = ["sshPrivateKey"]): { path: string; message: string }[] {
    try {
        parseConfig(raw, secrets);
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems;
    }
    throw new Error("config was accepted");
}

/** The problem a rejected config reports at `at`, failing with every problem listed when there is none there. */
export function problemAt(raw: RawConfig, secrets: string[] | undefined, at: string): { path: string; message: string; all: string[] } {
    const problems = rejectedProblems(raw, secrets);
    const hit = problems.find((p) => p.path === at);
    if (!hit) throw new Error(`no problem at ${at}; got:\n${problems.map((p) => `${p.path}: ${p.message}`).join("\n")}`);
    return { ...hit, all: problems.map((p) => p.message) };
}

/** Validate raw config exactly as the program does (throws ConfigError). */
export function parseConfig(raw: RawConfig, secrets: string[] = ["sshPrivateKey"]): StackConfig {
    const { config, secretKeys } = toCliConfig(raw, secrets);
    return parseStackConfig(config, new Set(secretKeys));
}

export interface Recorded extends RunResult {
    /** Custom resources of a type, in registration order. */
    ofType(type: string): PlannedResource[];
    /** The one resource with this name (throws when absent or ambiguous). */
    named(name: string): PlannedResource;
    /** Inputs with secrets revealed, as a provider would receive them. */
    inputsOf(name: string): Record<string, any>;
    /** Names of the resources whose parent is `name`. */
    childrenOf(name: string): string[];
    /** Whether `a` waits for `b`, directly or through others (the order the engine keeps on create and, reversed, on delete). */
    waitsFor(a: string, b: string): boolean;
}

function wrap(run: RunResult): Recorded {
    const byName = (name: string) => run.resources.filter((r) => r.name === name);
    return {
        ...run,
        ofType: (type) => run.resources.filter((r) => r.type === type),
        named(name) {
            const found = byName(name);
            if (found.length !== 1) throw new Error(`expected one resource named '${name}', found ${found.length}: ${run.resources.map((r) => r.name).join(", ")}`);
            return found[0];
        },
        inputsOf(name) {
            return reveal(this.named(name).inputs) as Record<string, any>;
        },
        childrenOf(name) {
            const urn = this.named(name).urn;
            return run.resources.filter((r) => r.parent === urn).map((r) => r.name);
        },
        waitsFor(a, b) {
            const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
            const target = this.named(b).urn;
            const seen = new Set<string>();
            const todo = [...this.named(a).dependencies];
            while (todo.length) {
                const u = todo.pop()!;
                if (u === target) return true;
                if (seen.has(u)) continue;
                seen.add(u);
                todo.push(...(byUrn.get(u)?.dependencies ?? []));
            }
            return false;
        },
    };
}

/** Fail on any resource URN registered twice (mocks do not detect it; the engine does). */
export function assertUniqueUrns(run: RunResult): void {
    if (run.duplicates.length) throw new Error(`duplicate resource URNs (pulumi up would refuse): ${run.duplicates.join(", ")}`);
}

/**
 * Run the whole program for a raw config under mocks. Preview mode by default:
 * command outputs (facts) stay unknown, as in `pulumi preview`.
 */
export async function runProgram(raw: RawConfig, opts: RunOptions & { secrets?: string[] } = {}): Promise<Recorded> {
    const { config, secretKeys } = toCliConfig(raw, opts.secrets ?? ["sshPrivateKey"]);
    const run = await runUnderMocks(() => defineStack(parseStackConfig(config, new Set(secretKeys))), {
        preview: true,
        ...opts,
        config,
        secretKeys,
    });
    assertUniqueUrns(run);
    return wrap(run);
}

/** Run a shipped stack file (`Pulumi.<stack>.yaml`) through the program. */
export async function runStackFile(stack: string, opts: RunOptions & { root?: string } = {}): Promise<Recorded> {
    const file = readStackFile(opts.root ?? REPO_ROOT, stack);
    const run = await runUnderMocks(() => defineStack(parseStackConfig(file.config, new Set(file.secretKeys))), {
        preview: true,
        ...opts,
        project: file.project,
        stack,
        config: file.config,
        secretKeys: file.secretKeys,
    });
    assertUniqueUrns(run);
    return wrap(run);
}

/** Run one component (or any resources) under mocks. */
export async function runComponent(build: () => unknown, opts: RunOptions = {}): Promise<Recorded> {
    const run = await runUnderMocks(build, { preview: true, ...opts });
    assertUniqueUrns(run);
    return wrap(run);
}
