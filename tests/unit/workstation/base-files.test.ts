// The base system's files, rendered in TypeScript (base-system/files.ts): what
// each host gets for a config, and the steps that carry them.
import { chronySources, debianSources, governorUnit, PATHS, tuningFiles } from "../../../components/workstation/base-system/files";
import { oneHost } from "../../helpers/fixtures";
import { runProgram } from "../../helpers/harness";
import { stepReceived } from "../../helpers/steps";

describe("tuning files", () => {
    test("defaults: nr_open at the kernel's ceiling, memlock unlimited (systemd: infinity)", () => {
        const t = tuningFiles({ swappiness: 10, nofile: 1048576, memlock: "unlimited" });
        expect(t.sysctl).toBe("# Managed by aihpc (workstation.base)\nvm.swappiness = 10\nfs.nr_open = 1048576\nfs.inotify.max_user_watches = 524288\nvm.max_map_count = 262144");
        expect(t.limits.split("\n")).toEqual([
            "# Managed by aihpc (workstation.base)",
            "* soft memlock unlimited",
            "* hard memlock unlimited",
            "* soft nofile 1048576",
            "* hard nofile 1048576",
            "root soft nofile 1048576",
            "root hard nofile 1048576",
        ]);
        expect(t.systemd).toBe("# Managed by aihpc (workstation.base): limits for services\n[Manager]\nDefaultLimitNOFILE=1048576\nDefaultLimitMEMLOCK=infinity");
    });

    test("nofile above the ceiling raises fs.nr_open with it; memlock in KiB becomes bytes for systemd", () => {
        const t = tuningFiles({ swappiness: 1, nofile: 2000000, memlock: 65536 });
        expect(t.sysctl).toContain("\nfs.nr_open = 2000000\n");
        expect(t.limits).toContain("\n* hard memlock 65536\n");
        expect(t.systemd).toContain("\nDefaultLimitMEMLOCK=67108864");
    });
});

test("the CPU governor unit, none for `unchanged`", () => {
    expect(governorUnit("unchanged")).toBeUndefined();
    const u = governorUnit("performance")!;
    expect(u).toContain("Description=aihpc: CPU frequency governor performance\n");
    expect(u).toContain("ExecStart=/bin/sh -c 'for f in /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; do echo performance > $f; done'\n");
});

test("Debian's sources: two deb822 stanzas with non-free, on the configured mirrors", () => {
    const s = debianSources("http://mirror.example/debian", "http://mirror.example/debian-security");
    expect(s.split("\n\n")).toHaveLength(2);
    expect(s).toContain("URIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main contrib non-free non-free-firmware\n");
    expect(s).toContain("URIs: http://mirror.example/debian-security\nSuites: bookworm-security\n");
});

test("the steps get the rendered files and the paths (defined once)", async () => {
    const raw = oneHost();
    raw.workstation.base = { ...(raw.workstation.base ?? {}), ntpServers: ["ntp.example.org"], swappiness: 3 };
    const rec = await runProgram(raw);
    const tuning = stepReceived(rec.inputsOf("ws-ws1-base-tuning")).vars;
    expect(tuning.SYSCTL_FILE).toBe(PATHS.sysctl);
    expect(tuning.SYSCTL_CONF).toContain("vm.swappiness = 3");
    expect(tuning.LIMITS_CONF).toBe(tuningFiles({ swappiness: 3, nofile: 1048576, memlock: "unlimited" }).limits);
    const time = stepReceived(rec.inputsOf("ws-ws1-base-time")).vars;
    expect([time.SOURCES_FILE, time.CHRONY_SOURCES]).toEqual([PATHS.chronySources, chronySources(["ntp.example.org"])]);
    // The delete command names the same paths.
    expect(stepReceived(rec.inputsOf("ws-ws1-base-tuning"), "delete").vars.LIMITS_FILE).toBe(PATHS.limits);
});
