import { execFileSync } from "child_process";
import * as path from "path";
import { checkFacts, parseFacts } from "../../components/workstation/host";
import { inlineScript, readInlineScript, scriptCommand, shellQuote } from "../../components/steps/shell";

// Recorded from a Debian 12 workstation with one RTX A5500 and the 535 driver.
const WORKSTATION = `os_id=debian
os_version_id=12
os_codename=bookworm
kernel=6.1.0-28-amd64
arch=x86_64
hostname=ws1
cpus=32
sockets=1
cores_per_socket=16
threads_per_core=2
memory_mb=128640
cgroup=v2
systemd=running
secure_boot=disabled
pci_gpu=01:00.0 "VGA compatible controller" "NVIDIA Corporation" "GA102GL [RTX A5500]" -r a1 "NVIDIA Corporation" "Device 1482"
nvidia_gpu=0, NVIDIA RTX A5500, GPU-6f1c2a4e-0b1d-4a55-9c1e-3f0d2a7b8c9d, 24564, 535.216.01, 00000000:01:00.0
`;

describe("facts probe", () => {
    test("parses a recorded workstation", () => {
        const f = parseFacts(WORKSTATION);
        expect(f).toMatchObject({ cpus: 32, sockets: 1, coresPerSocket: 16, threadsPerCore: 2, memoryMb: 128640, cgroup: "v2", secureBoot: "disabled" });
        expect(f.gpus).toEqual([
            { index: 0, name: "NVIDIA RTX A5500", uuid: "GPU-6f1c2a4e-0b1d-4a55-9c1e-3f0d2a7b8c9d", memoryMiB: 24564, driverVersion: "535.216.01", busId: "00000000:01:00.0" },
        ]);
        expect(f.pciGpus).toHaveLength(1);
        expect(checkFacts("ws1", f)).toEqual([]);
    });

    test("runs for real on this machine through the exact command string", () => {
        // As the Host sends it: inline, its comments and indentation cut (inlineScript).
        const script = readInlineScript(path.join(__dirname, "../../components/workstation/host/scripts"), "facts.sh");
        const out = execFileSync("/bin/sh", ["-c", scriptCommand(script)], { encoding: "utf8" });
        const f = parseFacts(out);
        expect(f.cpus).toBeGreaterThan(0);
        expect(f.memoryMb).toBeGreaterThan(0);
        expect(f.os.id).toBe("debian");
    });

    test("explains why a host is unfit", () => {
        const f = parseFacts(WORKSTATION.replace("os_version_id=12", "os_version_id=11").replace("systemd=running", "systemd=none"));
        expect(checkFacts("ws1", f)).toEqual([
            "ws1: expected Debian 12 (bookworm), found debian 11; aihpc supports Debian 12 only",
            "ws1: systemd is not running as PID 1 (found 'none'); aihpc manages services with systemd",
        ]);
    });

    test("fails clearly on truncated output", () => {
        expect(() => parseFacts("os_id=debian\n")).toThrow(/'cpus' is missing/);
    });
});

describe("step command strings", () => {
    test("quote any value safely", () => {
        const nasty = `it's $(rm -rf /) "x" \`y\``;
        const out = execFileSync("/bin/sh", ["-c", scriptCommand('printf %s "$V"', { V: nasty })], { encoding: "utf8" });
        expect(out).toBe(nasty);
        expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    });

    test("reject variable names that are not shell identifiers", () => {
        expect(() => scriptCommand("true", { "A;B": 1 })).toThrow(/invalid variable name/);
    });

    test("an inline script loses its comments, blank lines and indentation, and nothing bash reads; a here-document is refused", () => {
        const script = "#!/usr/bin/env bash\n# why\nset -eu\n\nif true; then\n  # because\n  echo 'a  # b'   # said\nfi\n";
        const inline = inlineScript(script);
        expect(inline).toBe("set -eu\nif true; then\necho 'a  # b'   # said\nfi");
        expect(execFileSync("bash", ["-c", inline], { encoding: "utf8" })).toBe("a  # b\n");
        expect(inlineScript("cat <<<\"$x\"")).toBe("cat <<<\"$x\"");
        for (const h of ["cat <<EOF\n  x\nEOF", "cat <<-'EOF'\nx\nEOF", 'cat << "EOF"\nx\nEOF']) expect(() => inlineScript(h)).toThrow(/here-document must travel as a file/);
        // The two scripts that travel inline: bash reads them.
        for (const [dir, file] of [["workstation/host/scripts", "facts.sh"], ["steps/scripts", "bundle.sh"]]) {
            const text = readInlineScript(path.join(__dirname, "../../components", dir), file);
            expect(text).not.toMatch(/^\s*#|^\s|\n\n/m);
            expect(execFileSync("bash", ["-n", "-c", text], { encoding: "utf8" })).toBe("");
        }
    });
});
