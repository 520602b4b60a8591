// A stand-in for an NVIDIA GPU and its driver's binary packages, for VM test
// hosts (testbed only): a VM has no NVIDIA device, and Debian's real driver
// takes about 38 minutes of DKMS build under emulation (docs: TESTBED notes).
// Three local Debian packages named like Debian's driver packages, at a
// version on the 535 branch above any of Debian's builds, so the stack's apt
// pin (`535.*`) chooses them and the driver step finds them installed; the
// step still installs their real companions from Debian (dkms, kernel
// headers, firmware, nvidia-persistenced). What they stand in for:
//   nvidia-smi:         /usr/bin/nvidia-smi answering `-L` and `--query-gpu`
//                       for one GPU (what the verify and wait-reboot steps and
//                       the facts probe ask), and /dev/nvidia0 (tmpfiles.d),
//                       the device file Slurm's GRES then names;
//   nvidia-driver, nvidia-kernel-dkms: empty (no kernel module: the reboot
//                       step's "no nvidia kernel module is installed" stays
//                       true, so a reboot is always due once they are in).
import * as fs from "fs";
import * as path from "path";
import { must } from "./hosts";

export const STANDIN_DRIVER_VERSION = "535.999.99";
export const STANDIN_PACKAGE_VERSION = `${STANDIN_DRIVER_VERSION}-0testbed1`;
export const STANDIN_GPU_NAME = "Testbed Stand-in GPU";

const NVIDIA_SMI = `#!/bin/sh
# Testbed stand-in for nvidia-smi (tests/testbed/gpu-standin.ts): one GPU, no driver behind it.
set -eu
if [ "\${1:-}" = -L ]; then
  echo "GPU 0: ${STANDIN_GPU_NAME} (UUID: GPU-00000000-0000-0000-0000-00000000a1b2)"
  exit 0
fi
q=""
for a in "$@"; do
  case "$a" in --query-gpu=*) q="\${a#--query-gpu=}" ;; esac
done
[ -n "$q" ] || { echo "testbed stand-in nvidia-smi: only -L and --query-gpu=..." >&2; exit 2; }
out=""
IFS=,
for f in $q; do
  case "$f" in
    index) v=0 ;;
    name) v="${STANDIN_GPU_NAME}" ;;
    uuid) v=GPU-00000000-0000-0000-0000-00000000a1b2 ;;
    memory.total) v=1024 ;;
    driver_version) v=${STANDIN_DRIVER_VERSION} ;;
    persistence_mode) v=Disabled ;;
    pci.bus_id) v=00000000:00:05.0 ;;
    *) v="[N/A]" ;;
  esac
  out="\${out:+$out, }$v"
done
echo "$out"
`;

function control(pkg: string, extra: string[] = []): string {
    return [
        `Package: ${pkg}`,
        `Version: ${STANDIN_PACKAGE_VERSION}`,
        "Architecture: amd64",
        "Maintainer: aihpc testbed <root@localhost>",
        ...extra,
        `Description: testbed stand-in for ${pkg} (no GPU in a test VM)`,
        " Built by tests/testbed/gpu-standin.ts; never for a real host.",
        "",
    ].join("\n");
}

/** Builds the three .deb files under dir; returns their paths. */
export async function buildStandinDebs(dir: string): Promise<string[]> {
    const out: string[] = [];
    const build = async (pkg: string, files: Record<string, { text: string; mode: number }>, extra: string[] = [], postinst?: string) => {
        const root = path.join(dir, pkg);
        fs.rmSync(root, { recursive: true, force: true });
        fs.mkdirSync(path.join(root, "DEBIAN"), { recursive: true });
        fs.writeFileSync(path.join(root, "DEBIAN/control"), control(pkg, extra));
        if (postinst) fs.writeFileSync(path.join(root, "DEBIAN/postinst"), postinst, { mode: 0o755 });
        for (const [rel, f] of Object.entries(files)) {
            const p = path.join(root, rel);
            fs.mkdirSync(path.dirname(p), { recursive: true });
            fs.writeFileSync(p, f.text, { mode: f.mode });
            fs.chmodSync(p, f.mode);
        }
        const deb = path.join(dir, `${pkg}_${STANDIN_PACKAGE_VERSION}_amd64.deb`);
        await must("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", root, deb]);
        fs.rmSync(root, { recursive: true, force: true });
        out.push(deb);
    };
    await build(
        "nvidia-smi",
        {
            "usr/bin/nvidia-smi": { text: NVIDIA_SMI, mode: 0o755 },
            "usr/lib/tmpfiles.d/testbed-nvidia.conf": { text: "# Testbed stand-in: the GPU's device file (no driver behind it: opens fail with ENXIO)\nc /dev/nvidia0 0666 root root - 195:0\n", mode: 0o644 },
        },
        // nvidia-persistenced (which the driver step installs) wants a libnvidia-cfg1.
        ["Provides: libnvidia-cfg1-any"],
        "#!/bin/sh\nset -e\nsystemd-tmpfiles --create testbed-nvidia.conf\n",
    );
    await build("nvidia-driver", {});
    await build("nvidia-kernel-dkms", {});
    return out;
}
