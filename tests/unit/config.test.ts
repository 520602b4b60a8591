import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig } from "../../config";
import { oneHost, twoHosts, withGcp, HOST_KEY_2 } from "../helpers/fixtures";
import { parseConfig, runProgram, toCliConfig } from "../helpers/harness";

type Raw = Record<string, any>;

function problemsOf(raw: Raw, secrets: string[] = ["sshPrivateKey"]): { path: string; message: string }[] {
    try {
        parseConfig(raw, secrets);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error("config was accepted");
}

function mutate(base: Raw, f: (c: Raw) => void): Raw {
    const c = structuredClone(base);
    f(c);
    return c;
}

// [what, config, secret keys, expected path, expected words in the message]
const bad: [string, Raw, string[], string, RegExp][] = [
    ["a wrong type", mutate(oneHost(), (c) => (c.workstation.hosts[0].port = "22")), ["sshPrivateKey"], "aihpc:workstation.hosts[0].port", /expected a TCP port number, got "22"/],
    ["an unknown key", mutate(oneHost(), (c) => (c.workstation.hosts[0].adress = "x")), ["sshPrivateKey"], "aihpc:workstation.hosts[0].adress", /unknown key/],
    ["a port out of range", mutate(oneHost(), (c) => (c.workstation.hosts[0].port = 70000)), ["sshPrivateKey"], "aihpc:workstation.hosts[0].port", /from 1 to 65535.*70000/],
    ["a host listed twice", mutate(twoHosts(), (c) => (c.workstation.hosts[1].name = "ws1")), ["sshPrivateKey"], "aihpc:workstation.hosts[1].name", /'ws1' is listed twice/],
    [
        "a partition naming an unknown host",
        mutate(twoHosts(), (c) => (c.workstation.slurm = { partitions: [{ name: "gpu", hosts: ["ws1", "ws9"] }] })),
        ["sshPrivateKey"],
        "aihpc:workstation.slurm.partitions[0].hosts[1]",
        /unknown host 'ws9': expected one of ws1, ws2/,
    ],
    ["a secret given in plain text", oneHost(), [], "aihpc:sshPrivateKey", /expected a Pulumi secret.*--secret/],
    ["no SSH key for the ssh transport", mutate(oneHost(), (c) => delete c.sshPrivateKey), ["sshPrivateKey"], "aihpc:sshPrivateKey", /required with transport 'ssh'/],
    ["no hosts", mutate(oneHost(), (c) => (c.workstation.hosts = [])), ["sshPrivateKey"], "aihpc:workstation.hosts", /at least 1 item/],
    ["an unpinned host key", mutate(oneHost(), (c) => delete c.workstation.hosts[0].hostKey), ["sshPrivateKey"], "aihpc:workstation.hosts[0].hostKey", /pin the host's public key/],
    ["a malformed host key", mutate(oneHost(), (c) => (c.workstation.hosts[0].hostKey = "AAAA")), ["sshPrivateKey"], "aihpc:workstation.hosts[0].hostKey", /SSH public host key/],
    ["an unknown role", mutate(oneHost(), (c) => (c.workstation.hosts[0].roles = ["gpu-node"])), ["sshPrivateKey"], "aihpc:workstation.hosts[0].roles[0]", /one of "controller", "compute"/],
    ["no Slurm controller", mutate(twoHosts(), (c) => (c.workstation.hosts[0].roles = ["compute"])), ["sshPrivateKey"], "aihpc:workstation.hosts", /exactly one host with role 'controller', got 0/],
    ["two Slurm controllers", mutate(twoHosts(), (c) => (c.workstation.hosts[1].roles = ["controller"])), ["sshPrivateKey"], "aihpc:workstation.hosts", /got 2 \(ws1, ws2\)/],
    ["local transport with two hosts", mutate(twoHosts(), (c) => (c.workstation.transport = "local")), ["sshPrivateKey"], "aihpc:workstation.hosts", /exactly 1 host, got 2/],
    ["a driver branch Debian lacks", mutate(oneHost(), (c) => (c.workstation.nvidia = { driver: { branch: "570" } })), ["sshPrivateKey"], "aihpc:workstation.nvidia.driver.branch", /source 'cuda-repo'/],
    ["a default CUDA not installed", mutate(oneHost(), (c) => (c.workstation.nvidia = { cuda: { versions: ["12.8"], default: "12.4" } })), ["sshPrivateKey"], "aihpc:workstation.nvidia.cuda.default", /expected one of 12.8/],
    ["two default partitions", mutate(oneHost(), (c) => (c.workstation.slurm = { partitions: [{ name: "a", default: true }, { name: "b", default: true }] })), ["sshPrivateKey"], "aihpc:workstation.slurm.partitions", /at most one partition/],
    ["clashing monitoring ports", mutate(oneHost(), (c) => (c.workstation.monitoring = { grafana: { port: 9090 } })), ["sshPrivateKey"], "aihpc:workstation.monitoring.grafana.port", /9090 is already used by monitoring.prometheus.port/],
    ["an apt proxy that is not a URL", mutate(oneHost(), (c) => (c.workstation.aptProxy = "proxy:3128")), ["sshPrivateKey"], "aihpc:workstation.aptProxy", /URL/],
    ["a typo in a top-level key", mutate(oneHost(), (c) => (c.worksation = {})), ["sshPrivateKey"], "aihpc:worksation", /unknown key/],
    ["a structured key that is not an object", mutate(oneHost(), (c) => (c.workstation = "ws1")), ["sshPrivateKey"], "aihpc:workstation", /expected an object.*got "ws1"/],
    ["a structured key marked secret", oneHost(), ["sshPrivateKey", "workstation"], "aihpc:workstation", /keep secrets in their own keys/],
    ["a zone outside the region", mutate(withGcp(), (c) => (c.gcp.zone = "us-central1-a")), ["sshPrivateKey"], "aihpc:gcp.zone", /not in region 'europe-west4'/],
    ["a bad project id", mutate(withGcp(), (c) => (c.gcp.project = "My_Project")), ["sshPrivateKey"], "aihpc:gcp.project", /Google Cloud project id/],
    ["a malformed billing account", mutate(withGcp(), (c) => (c.gcp.budget.billingAccount = "123")), ["sshPrivateKey"], "aihpc:gcp.budget.billingAccount", /billing account id/],
    ["an upper-case label key", mutate(withGcp(), (c) => (c.gcp.labels = { Team: "x" })), ["sshPrivateKey"], "aihpc:gcp.labels.Team", /label key/],
];

describe("invalid stack config", () => {
    test.each(bad)("rejects %s with its config path", (_what, raw, secrets, path, message) => {
        const problems = problemsOf(raw, secrets);
        const hit = problems.find((p) => p.path === path);
        if (!hit) throw new Error(`no problem at ${path}; got:\n${problems.map((p) => `${p.path}: ${p.message}`).join("\n")}`);
        expect(hit.message).toMatch(message);
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
