// Building the graph in turns (issue 17). The Pulumi SDK holds about 130 KB
// per resource until its registration returns (an Output per property, the
// promises behind them); a program that builds every resource in one pass has
// them all pending at once: 650 MB for 64 hosts. In a preview registrations
// return at once, so the stack builds a part (a component, a few hosts' base
// system), waits for its steps to register, then builds the next: the peak
// holds one part's pending resources. In an update a registration returns
// only once its resource is made, so there the graph is built in one pass:
// waiting would run independent parts (the cloud side, other hosts) one
// after the other.
import * as pulumi from "@pulumi/pulumi";
import { hostProcess } from "../host-process";

let pending: pulumi.Resource[] = [];
// A failed input never lets its resource register (nor settles its URN): after the first error the SDK reports
// (an unhandled rejection) while a turn waits, turns stop waiting and the rest is built in one pass, as without.
let failed = false;

// The listener of a turn still waiting: a program abandoned mid-turn (a test's, whose run failed elsewhere) never
// removes its own, and the next program in the process must not inherit it.
let waiting: (() => void) | undefined;

/** Start a program's turns: forget what an earlier program in this process left. */
export function beginTurns(): void {
    pending = [];
    failed = false;
    if (waiting) hostProcess().removeListener("unhandledRejection", waiting);
    waiting = undefined;
}

/** A step made in this turn (a preview waits for its registration before the next turn). */
export function track<T extends pulumi.Resource>(r: T): T {
    if (pulumi.runtime.isDryRun()) pending.push(r);
    return r;
}

/** End a turn: in a preview, wait until every step made since the last turn has registered. */
export async function endTurn(): Promise<void> {
    const made = pending;
    pending = [];
    if (made.length === 0 || failed) return;
    const proc = hostProcess();
    let onError = () => undefined as void;
    await new Promise<void>((resolve) => {
        onError = () => {
            failed = true;
            resolve();
        };
        // Only while waiting: a listener left behind would silence Node's own report of unhandled rejections.
        proc.on("unhandledRejection", onError);
        waiting = onError;
        pulumi.all(made.map((r) => r.urn)).apply(() => resolve());
    });
    proc.removeListener("unhandledRejection", onError);
    waiting = undefined;
    // The benchmark's view of each turn (docs/benchmarks.md); run node with --expose-gc to count live memory only.
    if (process.env.AIHPC_TURNS_LOG) {
        (globalThis as { gc?: () => void }).gc?.();
        const m = process.memoryUsage();
        process.stderr.write(`aihpc turn: ${made.length} steps registered; rss ${Math.round(m.rss / 1e6)} MB, heap used ${Math.round(m.heapUsed / 1e6)} MB\n`);
    }
}
