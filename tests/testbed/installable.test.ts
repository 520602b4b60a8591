// Issue 16 on the testbed: the default Debian-side packages of every component
// (config/versions.ts debianPackages, and base-system's BASE_PACKAGES) install
// from the live archive through the test proxy, each at a version its pin
// allows, so a default the archive no longer serves fails here rather than in
// a user's first `pulumi up`.
//   - The real program's base system (apt sources with contrib/non-free, the
//     proxy, BASE_PACKAGES) applied through the executor.
//   - The apt preferences the nvidia and containers components render (the
//     same text their steps write): the driver branch, docker.io's line.
//   - Packages that need no hardware installed for real; those that need a
//     GPU and its kernel module (nvidia-driver, DKMS, firmware, mokutil: the
//     testbed's nspawn hosts share the build machine's kernel) with
//     `apt-get install --simulate`, which resolves every dependency and names
//     the version apt would take.
//   - The optional NVML GRES plugin: the real Slurm packages step installs it
//     when apt can, and otherwise warns and goes on (Slurm not held back).
//   - An apt pin on a line the archive does not serve does not make apt fail
//     (it falls back to what the suite has): the check that catches it is the
//     one here, the chosen version against the pin, shown on a driver pin the
//     archive lacks.
import { bootTestbed, Testbed, TestHost } from "./hosts";
import { Executor, opsSummary } from "./executor";
import { parseConfig, RawConfig, runProgram, toCliConfig } from "../helpers/harness";
import { NewResourceArgs } from "../../tools/plan/recorder";
import { debianPackages } from "../../config/versions";
import { newestDebian, pinMatches } from "../../config/debian-version";
import { BASE_PACKAGES } from "../../components/workstation/base-system";
import { driverPreferences } from "../../components/workstation/nvidia";
import { dockerPin } from "../../components/workstation/containers/files";

jest.setTimeout(1_800_000);
const log = (m: string) => process.stdout.write(`[installable ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

function raw(tb: Testbed, h: TestHost, components: Record<string, unknown> = {}): RawConfig {
    return {
        workstation: {
            transport: "ssh",
            aptProxy: tb.proxyUrl,
            hosts: [{ name: h.name, address: h.address, port: h.port, user: h.user, hostKey: h.hostKey, roles: ["controller", "compute"], gpus: { count: 1 } }],
            nvidia: { enabled: false },
            containers: { enabled: false },
            mlRuntime: { enabled: false },
            acceptance: { enabled: false },
            slurm: { enabled: false },
            monitoring: { enabled: false },
            ...components,
        },
        sshPrivateKey: tb.privateKey,
    };
}

/** `Inst NAME (VERSION RELEASE [ARCH])` lines of `apt-get install --simulate`, by package. */
function simulated(out: string): Record<string, string> {
    return Object.fromEntries([...out.matchAll(/^Inst (\S+) (?:\[\S+\] )?\((\S+) /gm)].map((m) => [m[1], m[2]]));
}

const globOf = (line?: string) => (line ? `${line}.*` : "*");

describe("default Debian-side packages install from the live archive (issue 16)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ex: Executor;

    beforeAll(async () => {
        tb = await bootTestbed({ names: ["ws1"], log });
        [ws1] = tb.hosts;
        ex = new Executor({ log: (m) => log(`  ${m}`) });
        // The real base system: sources (main contrib non-free non-free-firmware, bookworm, -updates, -security), proxy, base packages.
        const { config, secretKeys } = toCliConfig(raw(tb, ws1), ["sshPrivateKey"]);
        const r = await ex.apply(config, secretKeys);
        log(`base system: ${opsSummary(r.ran)} in ${r.durationMs} ms`);
        if (r.error) throw r.error;
        // The preferences the components render, written as their steps write them.
        const cfg = parseConfig(raw(tb, ws1, { nvidia: {}, containers: {} }));
        await tb.sshOk(ws1, "cat >/etc/apt/preferences.d/aihpc-nvidia-pin", { stdin: driverPreferences(cfg.workstation.nvidia) });
        await tb.sshOk(ws1, "cat >/etc/apt/preferences.d/aihpc-docker", { stdin: dockerPin(cfg.workstation.containers) });
        await tb.sshOk(ws1, "apt-get update -q >/dev/null", { timeoutMs: 300_000 });
    });
    afterAll(async () => {
        ex?.dispose();
        await tb?.destroy();
    });

    test("base-system's packages are installed, each the suite's candidate", async () => {
        const out = await tb.sshOk(ws1, `dpkg-query -W -f='\${Package} \${Version} \${db:Status-Abbrev}\\n' ${BASE_PACKAGES.join(" ")}`);
        const installed = Object.fromEntries(out.trim().split("\n").map((l) => l.split(" ")).filter((f) => f[2] === "ii").map((f) => [f[0], f[1]]));
        expect(Object.keys(installed).sort()).toEqual([...new Set(BASE_PACKAGES)].sort());
    });

    test("packages that need no GPU install for real, at versions their lines allow", async () => {
        const real = [...new Set(debianPackages.filter((p) => !p.hardware).map((p) => p.name))];
        const r = await tb.ssh(ws1, `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${real.join(" ")}`, { timeoutMs: 1_200_000 });
        log(`install ${real.join(" ")}: exit ${r.code}`);
        if (r.code !== 0) throw new Error(`apt-get install failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
        const out = await tb.sshOk(ws1, `dpkg-query -W -f='\${Package} \${Version}\\n' ${real.join(" ")}`);
        const versions = Object.fromEntries(out.trim().split("\n").map((l) => l.split(" ")));
        const wrong = debianPackages.filter((p) => !p.hardware && !pinMatches(globOf(p.line), versions[p.name] ?? "")).map((p) => `${p.name} ${versions[p.name] ?? "missing"} (line ${p.line})`);
        expect(wrong).toEqual([]);
        log(`installed: ${Object.entries(versions).map(([k, v]) => `${k}=${v}`).join(" ")}`);
        expect(versions["docker.io"]).toMatch(/^20\.10\./);
    });

    test("packages that need a GPU resolve (--simulate) at the driver branch's newest build, security builds included", async () => {
        const hw = [...new Set(debianPackages.filter((p) => p.hardware && !p.optional).map((p) => p.name))];
        const out = await tb.sshOk(ws1, `apt-get install --simulate --no-install-recommends ${hw.join(" ")}`, { timeoutMs: 300_000 });
        const sim = simulated(out);
        const wrong = debianPackages
            .filter((p) => p.hardware && !p.optional && !pinMatches(globOf(p.line), sim[p.name] ?? ""))
            .map((p) => `${p.name} ${sim[p.name] ?? "not chosen"} (line ${p.line})`);
        expect(wrong).toEqual([]);
        // What the archive serves for the branch: the candidate is its newest (bookworm-security's when it has one).
        const policy = await tb.sshOk(ws1, "apt-cache policy nvidia-driver");
        const served = [...policy.matchAll(/^\s+(?:\*\*\* )?(\d\S*) \d+$/gm)].map((m) => m[1]);
        expect(sim["nvidia-driver"]).toBe(newestDebian(served.filter((v) => pinMatches("535.*", v))));
        // Every package of the driver family comes from one build (no mix of Debian's point release and security build).
        // (The family: packages built from the nvidia-graphics-drivers source, by the archive's own Source fields.)
        const show = await tb.sshOk(ws1, `apt-cache show ${Object.keys(sim).join(" ")}`, { timeoutMs: 120_000 });
        const source = new Map<string, string>();
        for (const stanza of show.split(/\n\n+/)) {
            const f = (k: string) => new RegExp(`^${k}: (\\S+)`, "m").exec(stanza)?.[1];
            const [pkg, version] = [f("Package"), f("Version")];
            if (pkg && version === sim[pkg]) source.set(pkg, f("Source") ?? pkg);
        }
        const family = Object.entries(sim).filter(([n]) => source.get(n) === "nvidia-graphics-drivers");
        expect(family.length).toBeGreaterThan(5);
        expect(new Set(family.map(([, v]) => v))).toEqual(new Set([sim["nvidia-driver"]]));
        log(`simulated: nvidia-driver=${sim["nvidia-driver"]} (${family.length} packages of the family), dkms=${sim.dkms}, firmware-misc-nonfree=${sim["firmware-misc-nonfree"]}`);
    });

    test("the NVML GRES plugin (optional): the real Slurm packages step installs it when apt can, else says why and goes on", async () => {
        // Debian's slurm-wlm-nvml-plugin depends on slurm-wlm-basic-plugins at its exact version; when Slurm had a
        // security build the plugin was not rebuilt for (22.05.8-4+deb12u3 vs the plugin's deb12u2, 2026-12-02), apt
        // cannot install both. The step must not fail the host for it, nor hold Slurm back.
        const sim = await tb.ssh(ws1, "apt-get install --simulate --no-install-recommends slurmd slurm-wlm-nvml-plugin");
        const installable = sim.code === 0;
        log(`slurm-wlm-nvml-plugin installable beside slurmd: ${installable}${installable ? "" : ` (${/slurm-wlm-nvml-plugin : Depends: .*/.exec(sim.stdout)?.[0] ?? sim.stderr.trim()})`}`);
        // The slurm packages step as the program renders it for this host (GPU host, Debian driver: nvml on).
        const facts = await tb.sshOk(ws1, "bash -s", { stdin: require("fs").readFileSync(require("path").resolve(__dirname, "../../components/workstation/host/scripts/facts.sh"), "utf8") });
        const plan = await runProgram(raw(tb, ws1, { nvidia: {}, slurm: {} }), {
            preview: false,
            newResource: (a: NewResourceArgs) => (a.name.endsWith("-facts") ? { stdout: facts, stderr: "" } : undefined),
        });
        const step = plan.inputsOf("ws-slurm-ws1-packages");
        expect(String(step.create)).toContain("OPTIONAL_PACKAGES='slurm-wlm-nvml-plugin'");
        const r = await tb.ssh(ws1, String(step.create), { timeoutMs: 600_000 });
        expect([r.code, r.stderr.slice(-800)]).toEqual([0, expect.anything()]);
        const has = (await tb.ssh(ws1, "dpkg-query -W -f='${db:Status-Abbrev}' slurm-wlm-nvml-plugin")).stdout.startsWith("ii");
        expect(has).toBe(installable);
        if (!installable) expect(r.stderr).toMatch(/warning: slurm-wlm-nvml-plugin cannot be installed beside this Slurm now \(slurm-wlm-nvml-plugin : Depends: slurm-wlm-basic-plugins \(= /);
        // Slurm itself is the suite's newest build, security builds included, never held back for the plugin.
        const slurmd = (await tb.sshOk(ws1, "dpkg-query -W -f='${Version}' slurmd")).trim();
        const policy = await tb.sshOk(ws1, "apt-cache policy slurmd");
        expect(slurmd).toBe(/Candidate: (\S+)/.exec(policy)?.[1]);
    });

    test("a pin on a build the archive does not serve is caught by the version check, not by apt", async () => {
        const cfg = parseConfig(raw(tb, ws1, { nvidia: { driver: { version: "535.100.01" } } }));
        await tb.sshOk(ws1, "cat >/etc/apt/preferences.d/aihpc-nvidia-pin", { stdin: driverPreferences(cfg.workstation.nvidia) });
        try {
            const r = await tb.ssh(ws1, "apt-get install --simulate --no-install-recommends nvidia-driver");
            // apt itself does not refuse: with no version matching the pin it takes the suite's.
            expect(r.code).toBe(0);
            expect(pinMatches("535.100.01-*", simulated(r.stdout)["nvidia-driver"] ?? "")).toBe(false);
        } finally {
            const back = parseConfig(raw(tb, ws1, { nvidia: {} }));
            await tb.sshOk(ws1, "cat >/etc/apt/preferences.d/aihpc-nvidia-pin", { stdin: driverPreferences(back.workstation.nvidia) });
        }
    });
});
