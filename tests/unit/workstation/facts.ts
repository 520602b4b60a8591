// Recorded facts probe output (fixtures/) and a `newResource` hook that hands
// it to the `*-facts` commands, so components see real facts under mocks.
import * as fs from "fs";
import * as path from "path";
import { parseFacts, HostFacts } from "../../../components/workstation/host/facts";
import { NewResourceArgs } from "../../../tools/plan/recorder";

/**
 * The recordings were made on this build machine (no systemd as PID 1) and on
 * the GPU machine (Ubuntu): their hardware lines are real. The OS and init
 * lines are those of a Debian 12 workstation, so that the preflight check
 * (host/facts.ts `checkFacts`) passes, unless `asRecorded` is set.
 */
export function recordedFacts(file: "facts-debian12-2cpu.txt" | "facts-h200.txt", hostname?: string, asRecorded = false): string {
    let text = fs.readFileSync(path.join(__dirname, "fixtures", file), "utf8");
    if (!asRecorded) {
        text = text
            .replace(/^os_id=.*$/m, "os_id=debian")
            .replace(/^os_version_id=.*$/m, "os_version_id=12")
            .replace(/^os_codename=.*$/m, "os_codename=bookworm")
            .replace(/^systemd=.*$/m, "systemd=running");
    }
    return hostname ? text.replace(/^hostname=.*$/m, `hostname=${hostname}`) : text;
}

export function factsOf(file: "facts-debian12-2cpu.txt" | "facts-h200.txt", hostname = "ws1"): HostFacts {
    return parseFacts(recordedFacts(file, hostname));
}

/** `newResource` for runProgram: `ws-<host>-facts` prints the recorded probe output for that host. */
export function factsHook(files: Record<string, "facts-debian12-2cpu.txt" | "facts-h200.txt"> = {}) {
    return (args: NewResourceArgs): Record<string, unknown> | undefined => {
        const m = /^ws-(.+)-facts$/.exec(args.name);
        if (!m) return undefined;
        return { stdout: recordedFacts(files[m[1]] ?? "facts-debian12-2cpu.txt", m[1]), stderr: "" };
    };
}
