/**
 * `installed_package=NAME=VERSION` lines a step printed (the nvidia verify step, the docker step), by package: what
 * the host runs, read by dpkg there, not an echo of the config (with a line pin the build is the suite's newest).
 */
export function installedPackages(stdout: string | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of (stdout ?? "").matchAll(/^installed_package=([a-z0-9][a-z0-9+.-]*)=(\S+)$/gm)) out[m[1]] = m[2];
    return out;
}
