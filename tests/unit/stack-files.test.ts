import { runStackFile } from "../helpers/harness";

describe("shipped stack files", () => {
    test.each(["local", "gcp"])("Pulumi.%s.yaml is valid and plans a graph with unique URNs", async (stack) => {
        const run = await runStackFile(stack);
        expect(run.ofType("aihpc:workstation:Workstation")).toHaveLength(1);
        const probe = run.named("ws-ws1-facts");
        expect(probe.type).toBe("command:remote:Command");
        // The stack file's secure: value reaches the connection only as a secret.
        const conn = run.inputsOf("ws-ws1-facts").connection;
        expect(conn.hostKey).toMatch(/^ssh-ed25519 /);
        expect(JSON.stringify(probe.inputs)).not.toContain("REPLACE-with");
    });
});
