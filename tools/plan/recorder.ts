import * as pulumi from "@pulumi/pulumi";
import { hostProcess } from "../../components/host-process";
import { leanStackTraces } from "../../components/stack-traces";
import { mockCall, mockState } from "./mock-state";
export { UnmockedCallError } from "./mock-state";

// Internal SDK modules: the mock monitor hides parents and dependencies from
// `Mocks.newResource`, and the plan needs both for its tree and graph.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings");

export const STACK_TYPE = "pulumi:pulumi:Stack";

// Every resource waiting on a failed Output rejects on its own, some after the
// run has already failed: those repeat a reason already reported. One listener
// per process, kept on the process itself: under jest each test file loads this
// module afresh, and a listener per load would pile up on the one real process.
const IGNORE = Symbol.for("aihpc.plan.knownRejections");
type Ignore = { known: WeakSet<object>; listener: (reason: unknown) => void };
function ignoreKnownRejections(proc: NodeJS.Process): WeakSet<object> {
    const holder = proc as unknown as { [IGNORE]?: Ignore };
    const existing = holder[IGNORE];
    if (existing) return existing.known;
    const known = new WeakSet<object>();
    const listener = (reason: unknown) => {
        const isKnown = reason !== null && typeof reason === "object" && known.has(reason);
        // Alone, this listener would silence every rejection: rethrow the rest
        // as Node would without it.
        if (!isKnown && proc.listenerCount("unhandledRejection") === 1) throw reason;
    };
    holder[IGNORE] = { known, listener };
    proc.on("unhandledRejection", listener);
    return known;
}


export interface PlannedResource {
    urn: string;
    type: string;
    name: string;
    /** URN of the parent; undefined only for the stack itself. */
    parent?: string;
    /** Component resources group others; custom ones are what a provider creates. */
    custom: boolean;
    /** Inputs in wire form: secrets, assets and unknowns as signature objects (see `reveal`). */
    inputs: Record<string, unknown>;
    /** Outputs the mock returned (inputs plus computed values). */
    state: Record<string, unknown>;
    /** URNs this resource waits for (dependsOn and input dependencies). */
    dependencies: string[];
    provider?: string;
    options: {
        protect: boolean;
        retainOnDelete: boolean;
        deleteBeforeReplace: boolean;
        ignoreChanges: string[];
        replaceOnChanges: string[];
        additionalSecretOutputs: string[];
    };
}

export interface NewResourceArgs extends pulumi.runtime.MockResourceArgs {
    urn: string;
    parent?: string;
    dependencies: string[];
}

export interface RunOptions {
    project?: string;
    stack?: string;
    /** Raw config as the CLI hands it to a program: `ns:key` -> string. */
    config?: Record<string, string>;
    secretKeys?: string[];
    /** Evaluate as `pulumi preview` would (unknown outputs stay unknown). */
    preview?: boolean;
    /**
     * Replace the built-in mock of a resource's create: return its outputs.
     * The testbed executor uses this to run commands for real.
     */
    newResource?: (args: NewResourceArgs) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined;
}

export interface RunResult {
    resources: PlannedResource[];
    /** Stack outputs with secrets still wrapped. */
    outputs: Record<string, unknown>;
    /** Resources registered twice under one URN: `pulumi up` refuses these. */
    duplicates: string[];
    /** Provider functions that were called. */
    calls: { token: string; inputs: Record<string, unknown> }[];
}

/**
 * Run a Pulumi program in-process under the SDK's mocks and record every
 * resource registration with its resolved inputs, parent and dependencies.
 * One run at a time: the SDK's runtime state is global.
 */
export async function runUnderMocks(program: () => unknown, opts: RunOptions = {}): Promise<RunResult> {
    const project = opts.project ?? "aihpc";
    const stack = opts.stack ?? "test";
    const resources: PlannedResource[] = [];
    const seen = new Set<string>();
    const duplicates: string[] = [];
    const calls: RunResult["calls"] = [];
    const engineType = new Map<string, string>();
    let registering: Omit<PlannedResource, "state"> | undefined;
    let failure: unknown;

    const mocks: pulumi.runtime.Mocks = {
        call(args) {
            calls.push({ token: args.token, inputs: args.inputs });
            try {
                return mockCall(args.token, args.inputs, { project, stack });
            } catch (err) {
                // Kept so the run fails even if the program swallows the rejection.
                failure ??= err;
                throw err;
            }
        },
        async newResource(args) {
            // Set synchronously by the monitor wrapper just before this call.
            const meta = registering;
            registering = undefined;
            const custom = Boolean(args.custom);
            let state: Record<string, unknown> = { ...args.inputs, ...mockState(args.type, args.name, args.inputs, { project, stack }) };
            if (opts.newResource && meta) {
                try {
                    const real = await opts.newResource({ ...args, urn: meta.urn, parent: meta.parent, dependencies: meta.dependencies });
                    if (real) state = { ...state, ...real };
                } catch (err) {
                    failure ??= err;
                    throw err;
                }
            }
            if (meta) resources.push({ ...meta, custom, state });
            return { id: custom ? `${args.name}-id` : undefined, state };
        },
    };

    await pulumi.runtime.setMocks(mocks, project, stack, opts.preview ?? false);
    pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);

    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, resp: unknown) => void) => {
        const type: string = req.getType();
        const name: string = req.getName();
        const parent: string = req.getParent();
        // The mock monitor's URN (what dependencies refer to) qualifies the type
        // by the parent's type only; the engine's by the whole ancestor chain.
        const urn = `urn:pulumi:${stack}::${project}::${parent ? `${parent.split("::")[2].split("$").pop()}$${type}` : type}::${name}`;
        const parentQualified = parent ? engineType.get(parent) : undefined;
        const qualified = parentQualified && parentQualified !== STACK_TYPE ? `${parentQualified}$${type}` : type;
        engineType.set(urn, qualified);
        const engineUrn = `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
        if (seen.has(engineUrn)) duplicates.push(engineUrn);
        seen.add(engineUrn);
        const deps = new Set<string>(req.getDependenciesList());
        req.getPropertydependenciesMap().forEach((v: any) => v.getUrnsList().forEach((u: string) => deps.add(u)));
        registering = {
            urn,
            type,
            name,
            parent: parent || undefined,
            custom: Boolean(req.getCustom()),
            // Raw wire form: nested secrets stay where they are (the SDK's own
            // deserializer would mark the whole top-level input secret).
            inputs: req.getObject()?.toJavaScript() ?? {},
            dependencies: [...deps].filter((d) => d !== parent),
            provider: req.getProvider() || undefined,
            options: {
                protect: Boolean(req.getProtect()),
                retainOnDelete: Boolean(req.getRetainondelete()),
                deleteBeforeReplace: Boolean(req.getDeletebeforereplace()),
                ignoreChanges: req.getIgnorechangesList(),
                replaceOnChanges: req.getReplaceonchangesList(),
                additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            },
        };
        return register(req, callback);
    };

    // A program that throws (invalid config) must surface as this call's
    // rejection, not as an unhandled one inside the SDK's stack resource.
    let programError: unknown;
    // A failed Output that a resource waits on (a preflight check, say) never
    // lets that resource register: the SDK only reports an unhandled rejection.
    // Take the first one as the run's error instead of waiting forever.
    const proc = hostProcess();
    const knownRejections = ignoreKnownRejections(proc);
    const ignoreListener = (proc as unknown as { [IGNORE]: Ignore })[IGNORE].listener;
    let onRejection: (reason: unknown) => void = () => undefined;
    const rejected = new Promise<never>((_, reject) => {
        onRejection = (reason) => {
            if (reason !== null && typeof reason === "object") knownRejections.add(reason);
            failure ??= reason;
            reject(reason);
        };
    });
    rejected.catch(() => undefined);
    // Other listeners (a test runner's) would count these as failures of their
    // own: they are this run's result, so hold them back while it runs.
    const others = proc.rawListeners("unhandledRejection").filter((l) => l !== ignoreListener) as ((...a: unknown[]) => void)[];
    for (const l of others) proc.removeListener("unhandledRejection", l);
    proc.on("unhandledRejection", onRejection);
    let outputs: Record<string, unknown> = {};
    let returned: unknown;
    // Restored after the run: a test runner sharing this realm keeps its stacks.
    const restoreStackTraces = leanStackTraces();
    try {
        await Promise.race([
            pulumi.runtime.runInPulumiStack(async () => {
                try {
                    return (returned = await program());
                } catch (err) {
                    programError = err;
                    return {};
                }
            }),
            rejected,
        ]);
        // Each Output on its own, as `pulumi preview` lists stack outputs: one unknown
        // (a host's reported facts) leaves the rest readable.
        outputs = ((await Promise.race([stackOutputs(returned), rejected])) ?? {}) as Record<string, unknown>;
        await Promise.race([settings.waitForRPCs(), rejected]);
        // Resources gated on a failed Output reject a few ticks after the last
        // RPC: give them a turn of the event loop before calling the run done.
        await Promise.race([new Promise((r) => setTimeout(r, 20)), rejected]);
        await Promise.race([settings.waitForRPCs(), rejected]);
    } catch (err) {
        failure ??= err;
    } finally {
        restoreStackTraces();
        proc.removeListener("unhandledRejection", onRejection);
        for (const l of others) proc.on("unhandledRejection", l);
    }
    // A mock's own error says more than the SDK's wrapping of it.
    if (failure) throw failure;
    if (programError) throw programError;
    return { resources, outputs: outputs as Record<string, unknown>, duplicates, calls };
}


// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpcSigs = require("@pulumi/pulumi/runtime/rpc");
/**
 * The program's returned value with every Output resolved in place: unknown ones
 * as UNKNOWN_VALUE, secret ones wrapped in the secret signature (as the engine
 * keeps them), so a renderer can tell them apart.
 */
async function stackOutputs(v: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(v)) {
        const o = v as unknown as { isKnown: Promise<boolean>; isSecret: Promise<boolean>; promise(withUnknowns?: boolean): Promise<unknown> };
        if (!(await o.isKnown)) return UNKNOWN_VALUE;
        const inner = await stackOutputs(await o.promise(true));
        return (await o.isSecret) ? { [SIG_KEY]: SECRET_SIG, value: inner } : inner;
    }
    if (Array.isArray(v)) return Promise.all(v.map(stackOutputs));
    if (v !== null && typeof v === "object" && !pulumi.Resource.isInstance(v)) {
        return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await stackOutputs(x)] as const)));
    }
    if (pulumi.Resource.isInstance(v)) return { [SIG_KEY]: RESOURCE_SIG, urn: await ((v as pulumi.Resource).urn as unknown as { promise(): Promise<string> }).promise() };
    return v;
}

export const SIG_KEY: string = rpcSigs.specialSigKey;
export const SECRET_SIG: string = rpcSigs.specialSecretSig;
export const ASSET_SIG: string = rpcSigs.specialAssetSig;
export const ARCHIVE_SIG: string = rpcSigs.specialArchiveSig;
export const RESOURCE_SIG: string = rpcSigs.specialResourceSig;
export const UNKNOWN_VALUE: string = rpcSigs.unknownValue;

/** Wire form to plain values, secrets revealed: what a provider would act on. */
export function reveal(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(reveal);
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) return reveal(o.value);
    if (o[SIG_KEY] === RESOURCE_SIG) return o.urn;
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, reveal(x)]));
}

/** True when any part of a wire-form value is a secret. */
export function containsSecret(v: unknown): boolean {
    if (Array.isArray(v)) return v.some(containsSecret);
    if (v === null || typeof v !== "object") return false;
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) return true;
    return Object.values(o).some(containsSecret);
}
