// The Pulumi SDK formats a stack trace for every promise it makes
// (runtime/debuggable.js), kept only for its leak report. At ~40 resources a
// host those strings are three quarters of the program's live memory, and
// formatting them a third of its CPU (docs/benchmarks.md). Bad settings are
// reported as messages, not stacks, so the program runs without them unless
// someone asks: PULUMI_DEBUG_PROMISE_LEAKS (the report needs them) or an
// explicit `--stack-trace-limit` (NODE_OPTIONS or node's arguments).

function asked(): boolean {
    const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
    return Boolean(process.env.PULUMI_DEBUG_PROMISE_LEAKS) || args.some((a) => a.startsWith("--stack-trace-limit"));
}

/** Turn stack capture off for this program's run; returns what restores the limit it found. */
export function leanStackTraces(): () => void {
    const before = Error.stackTraceLimit;
    if (!asked()) Error.stackTraceLimit = 0;
    return () => {
        Error.stackTraceLimit = before;
    };
}
