import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig } from "../../config";
import { badConfigs, mutate } from "../helpers/bad-configs";
import { oneHost, twoHosts, withGcp, HOST_KEY_2 } from "../helpers/fixtures";
import { parseConfig, problemAt, rejectedProblems, runProgram, toCliConfig } from "../helpers/harness";

const problemsOf = rejectedProblems;

const bad = badConfigs;

describe("invalid stack config", () => {
    test.each(bad)("rejects %s with its config path", (_what, raw, secrets, path, message) => {
        expect(problemAt(raw, secrets, path).message).toMatch(message);
    });

    test("lists every problem in one message", () => {
        const raw = mutate(twoHosts(), (c) => {
            c.workstation.hosts[0].port = 0;
            c.workstation.hosts[1].name = "ws1";
            c.workstation.bogus = true;
            c.workstation.slurm = { partitions: [{ name: "gpu", hosts: ["nope"] }] };
        });
        let message = "";
        try {
            parseConfig(raw);
        } catch (err) {
            message = (err as Error).message;
        }
        expect(message).toMatch(/^Invalid stack configuration: \d+ problems/);
        for (const path of ["aihpc:workstation.hosts[0].port", "aihpc:workstation.hosts[1].name", "aihpc:workstation.bogus", "aihpc:workstation.slurm.partitions[0].hosts[0]"]) {
            expect(message).toContain(`  - ${path}: `);
        }
        expect(message).toContain("nothing was changed");
    });

    test("is a RunError, so the CLI prints the message without a stack trace", () => {
        const problems = problemsOf(mutate(oneHost(), (c) => (c.workstation.hosts[0].port = -1)));
        const err = new ConfigError(problems);
        expect(pulumi.RunError.isInstance(err)).toBe(true);
    });

    test("never echoes a secret's value", () => {
        const raw = mutate(oneHost(), (c) => (c.sshPrivateKey = { nested: "TOP-SECRET-KEY" }));
        let message = "";
        try {
            parseConfig(raw, []);
        } catch (err) {
            message = (err as Error).message;
        }
        expect(message).toContain("aihpc:sshPrivateKey");
        expect(message).not.toContain("TOP-SECRET-KEY");
    });

    test("stops the program before any resource is registered", async () => {
        const created: string[] = [];
        const raw = mutate(oneHost(), (c) => (c.workstation.hosts[0].port = 99999));
        await expect(runProgram(raw, { newResource: (a) => void created.push(a.type) })).rejects.toThrow(ConfigError);
        expect(created.filter((t) => t !== "pulumi:pulumi:Stack")).toEqual([]);
    });
});

describe("valid stack config", () => {
    test("a minimal config gets safe defaults", () => {
        const cfg = parseConfig(oneHost());
        const ws = cfg.workstation;
        expect(ws.transport).toBe("ssh");
        expect(ws.hosts[0]).toMatchObject({ port: 22, user: "root", roles: ["controller", "compute"] });
        expect(ws.nvidia.driver).toMatchObject({ source: "debian", allowReboot: false });
        expect(ws.slurm.partitions).toEqual([expect.objectContaining({ name: "gpu", default: true })]);
        for (const c of [ws.base, ws.nvidia, ws.containers, ws.slurm, ws.monitoring, ws.mlRuntime]) {
            expect(c).toMatchObject({ enabled: true, retain: false });
        }
        expect(cfg.gcp).toBeUndefined();
        expect(String(cfg.sshPrivateKey)).toBe("[secret]");
    });

    test("gcp defaults are secure", () => {
        const g = parseConfig(withGcp()).gcp!;
        expect(g.buckets.datasets.protect).toBe(true);
        expect(g.buckets.artifacts.protect).toBe(true);
        expect(g.artifactRegistry.enabled).toBe(true);
        expect(g.vertex.workbench).toMatchObject({ enabled: false, rootAccess: false, fileDownloads: false, deletionProtection: true });
        expect(g.allowUserMembers).toBe(false);
    });

    test("the local transport needs neither address nor key", () => {
        const cfg = parseConfig({ workstation: { transport: "local", hosts: [{ name: "ws1" }] } }, []);
        expect(cfg.workstation.hosts[0].address).toBeUndefined();
    });

    test("keys outside the aihpc namespace are ignored", () => {
        const { config, secretKeys } = toCliConfig({ ...twoHosts(), "gcp:project": "other" }, ["sshPrivateKey"]);
        expect(() => parseStackConfig(config, new Set(secretKeys))).not.toThrow();
    });

    test("partitions may name compute hosts", () => {
        const raw = mutate(twoHosts(), (c) => (c.workstation.slurm = { partitions: [{ name: "big", hosts: ["ws2"], default: true }] }));
        expect(parseConfig(raw).workstation.slurm.partitions[0].hosts).toEqual(["ws2"]);
        expect(HOST_KEY_2).toMatch(/^ssh-ed25519/);
    });
});
