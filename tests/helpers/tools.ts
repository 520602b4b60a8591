import { spawnSync } from "child_process";

const PACKAGE: Record<string, string> = {
    shellcheck: "shellcheck",
    promtool: "prometheus",
    amtool: "prometheus-alertmanager",
    "ssh-keygen": "openssh-client",
};

/**
 * Fail (never skip) when a tool a test needs is missing, saying how to get it;
 * `npm test` installs all of them first (tools/test-deps.sh, its pretest).
 */
export function requireTool(cmd: string): string {
    if (spawnSync("sh", ["-c", `command -v ${cmd}`]).status !== 0) {
        throw new Error(`${cmd} is required by this test: apt-get install ${PACKAGE[cmd] ?? cmd} (npm test installs it as root: tools/test-deps.sh)`);
    }
    return cmd;
}

/** Tests that use lib.sh's file helpers run as root, as the steps do on a host. */
export function requireRoot(): void {
    if (typeof process.getuid === "function" && process.getuid() !== 0) {
        throw new Error("this test runs provisioning shell as root (as CI and the hosts do): run npm test as root");
    }
}
