import { PreflightError } from "../../../components/workstation/host";
import { twoHosts } from "../../helpers/fixtures";
import { runProgram } from "../../helpers/harness";
import { recordedFacts } from "./facts";

// Only the probes run before every host has answered and passed the check.
function hook(bad: Record<string, (facts: string) => string>, created: string[]) {
    return (args: { name: string; type: string }) => {
        if (args.type.startsWith("command:")) created.push(args.name);
        const m = /^ws-(.+)-facts$/.exec(args.name);
        if (!m) return undefined;
        const facts = recordedFacts("facts-debian12-2cpu.txt", m[1]);
        return { stdout: (bad[m[1]] ?? ((f: string) => f))(facts), stderr: "" };
    };
}

describe("preflight: every host is checked before any host is changed", () => {
    test("a host without systemd stops the apply with its reason; only the read-only probes ran", async () => {
        const created: string[] = [];
        const raw = twoHosts();
        raw.workstation.nvidia = { enabled: false };
        const run = runProgram(raw, { preview: false, newResource: hook({ ws2: (f) => f.replace(/^systemd=.*$/m, "systemd=none") }, created) });
        await expect(run).rejects.toThrow(PreflightError);
        await expect(run).rejects.toThrow(/ws2: systemd is not running as PID 1/);
        // No command of any component ran, on either host: only the two probes.
        expect(created.sort()).toEqual(["ws-ws1-facts", "ws-ws2-facts"]);
    });

    test("a host that is not Debian 12 is refused the same way", async () => {
        const raw = twoHosts();
        raw.workstation.nvidia = { enabled: false };
        const run = runProgram(raw, { preview: false, newResource: hook({ ws1: (f) => f.replace(/^os_version_id=.*$/m, "os_version_id=11") }, []) });
        await expect(run).rejects.toThrow(/ws1: expected Debian 12 \(bookworm\), found debian 11/);
    });

    test("on fit hosts, every step waits for every host's probe", async () => {
        const raw = twoHosts();
        raw.workstation.nvidia = { enabled: false };
        const rec = await runProgram(raw, { preview: false, newResource: hook({}, []) });
        // Through the bundle: its copy waits for the preflight gate (one resource, which runs nothing),
        // the gate for every probe, and every step for the bundle.
        const gate = rec.named("ws-preflight");
        expect(gate.type).toBe("command:local:Command");
        expect(rec.inputsOf("ws-preflight").create).toBeUndefined();
        expect(gate.dependencies.sort()).toEqual([rec.named("ws-ws1-facts").urn, rec.named("ws-ws2-facts").urn].sort());
        const ws1Retain = rec.resources.find((r) => r.name === "ws-ws1-base-retain")!;
        expect(ws1Retain.dependencies).toContain(rec.named("ws-ws1-bundle").urn);
        expect(rec.named("ws-ws1-bundle").dependencies).toContain(rec.named("ws-ws1-bundle-copy").urn);
        // Its own probe and the gate, not the other host's probe: no host lists every host (issue 17).
        expect(rec.named("ws-ws1-bundle-copy").dependencies.sort()).toEqual([rec.named("ws-ws1-facts").urn, gate.urn].sort());
    });
});

test("a preflight failure is a RunError, so pulumi prints its message without a stack trace", () => {
    const err = new PreflightError(["ws2: systemd is not running as PID 1"]);
    expect(require("@pulumi/pulumi").RunError.isInstance(err)).toBe(true);
    expect(err.message).toBe("preflight: 1 host is unfit, nothing was changed:\n  - ws2: systemd is not running as PID 1");
});
