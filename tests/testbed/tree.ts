// A host's whole file tree (path, type, mode, owner; a link's target) for
// teardown tests: captured before the first apply, compared after destroy.
import { Testbed, TestHost } from "./hosts";

/**
 * What is left out, and why. Everything else on the root file system counts
 * (`find -xdev`: /proc, /sys, /dev, /run and /tmp are other mounts).
 */
export const TREE_IGNORE: { path: string; why: string }[] = [
    { path: "/var/log", why: "logs and the journal: written by every service that ran, kept by design" },
    { path: "/var/cache/apt", why: "downloaded .deb files and package caches" },
    { path: "/var/lib/apt/lists", why: "package indexes, refreshed by any apt-get update" },
    { path: "/var/lib/apt/extended_states", why: "apt's automatic-install marks: created by the first install, kept by apt" },
    { path: "/var/lib/ucf/hashfile.*", why: "ucf's numbered backups of its registry, rotated by any package install" },
    { path: "/var/lib/ucf/registry.*", why: "the same" },
    { path: "/var/cache/debconf/tmp.ci", why: "debconf's scratch folder, made by any package install" },
    { path: "/home/*/.sudo_as_admin_successful", why: "Debian's sudo marks an admin's first successful sudo in their home (a non-root connection's steps run through sudo)" },
];

/** Sorted lines `TYPE MODE OWNER:GROUP PATH[ -> TARGET]`. */
export async function fileTree(tb: Testbed, h: TestHost): Promise<string[]> {
    const prune = TREE_IGNORE.map((i) => `-path '${i.path}'`).join(" -o ");
    const out = await tb.sshOk(
        h,
        `find / -xdev \\( ${prune} \\) -prune -o \\( -type l -printf '%y %#m %u:%g %p -> %l\\n' \\) -o -printf '%y %#m %u:%g %p\\n' | LC_ALL=C sort`,
        { timeoutMs: 120_000 },
    );
    return out.split("\n").filter(Boolean);
}

/** Lines only in `after` (added) and only in `before` (removed); a changed mode or owner shows in both. */
export function treeDiff(before: string[], after: string[]): { added: string[]; removed: string[] } {
    const b = new Set(before);
    const a = new Set(after);
    return { added: after.filter((l) => !b.has(l)), removed: before.filter((l) => !a.has(l)) };
}
