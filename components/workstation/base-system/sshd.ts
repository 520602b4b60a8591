// Optional sshd hardening (workstation.base.sshd): the drop-in rendered here,
// installed by scripts/sshd.sh after `sshd -t` and a lockout check, and the
// one config rule that keeps it from locking out the connection's user.
import type { BaseConfig, WorkstationConfig } from "../../../config/workstation";

/** Read before any other drop-in (sshd keeps the first value it reads; Debian's sshd_config includes sshd_config.d/*.conf first). */
export const SSHD_DROP_IN = "/etc/ssh/sshd_config.d/00-aihpc.conf";

/** The drop-in's text, or undefined when nothing is set (no step then). */
export function sshdDropIn(c: BaseConfig["sshd"]): string | undefined {
    const lines: string[] = [];
    if (c.permitRootLogin !== undefined) lines.push(`PermitRootLogin ${c.permitRootLogin}`);
    if (c.passwordAuthentication !== undefined) {
        const v = c.passwordAuthentication ? "yes" : "no";
        // Passwords also reach sshd through PAM's keyboard-interactive.
        lines.push(`PasswordAuthentication ${v}`, `KbdInteractiveAuthentication ${v}`);
    }
    return lines.length ? ["# Managed by aihpc (workstation.base.sshd)", ...lines].join("\n") : undefined;
}

/** [path under workstation, message] for settings that would lock the stack out of a host. */
export function sshdProblems(ws: WorkstationConfig): [(string | number)[], string][] {
    if (!ws.base.enabled || ws.transport !== "ssh" || ws.base.sshd.permitRootLogin !== "no") return [];
    return ws.hosts.flatMap((h, i): [(string | number)[], string][] =>
        h.user === "root"
            ? [
                  [
                      ["base", "sshd", "permitRootLogin"],
                      `'no' would lock out hosts[${i}] ('${h.name}'), which the stack reaches as root: connect as an admin user with passwordless sudo (hosts[${i}].user) first, or use 'prohibit-password' (root with keys only)`,
                  ],
              ]
            : [],
    );
}
