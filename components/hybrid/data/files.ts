// The data-sync units, rendered here (pure functions: they show in the plan
// and are unit-tested). The gcsfuse mount unit stays with data.sh: its --gid
// is the research group's id on that host, which only exists once the base
// system has created the group.
export const PATHS = {
    program: "/usr/local/sbin/aihpc-data-sync",
    unitDir: "/etc/systemd/system",
    service: "aihpc-data-sync.service",
    timer: "aihpc-data-sync.timer",
    mount: "aihpc-datasets-gcsfuse.service",
} as const;

/** The Environment= line that makes a unit act as the workstation (the root copy of the credentials). */
export const credentialsEnvironment = (certDir: string) =>
    `Environment=GOOGLE_APPLICATION_CREDENTIALS=${certDir}/credentials.json CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE=${certDir}/credentials.json`;

/** The oneshot that pulls datasets and pushes checkpoints (aihpc-data-sync, reading the stack's env file). */
export function syncService(certDir: string, envFile: string): string {
    return [
        "# Managed by aihpc (gcp.hybrid.data)",
        "[Unit]",
        "Description=aihpc: pull datasets from and push checkpoints to Cloud Storage",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=oneshot",
        `EnvironmentFile=${envFile}`,
        credentialsEnvironment(certDir),
        `ExecStart=${PATHS.program}`,
        "Nice=10",
        "IOSchedulingClass=idle",
    ].join("\n");
}

/** Its timer: every `interval` (a systemd time span, gcp.hybrid.data.interval). */
export function syncTimer(interval: string): string {
    return [
        "# Managed by aihpc (gcp.hybrid.data.interval)",
        "[Unit]",
        `Description=aihpc: sync data with Cloud Storage every ${interval}`,
        "",
        "[Timer]",
        `OnActiveSec=${interval}`,
        `OnUnitActiveSec=${interval}`,
        "RandomizedDelaySec=60",
        "",
        "[Install]",
        "WantedBy=timers.target",
    ].join("\n");
}
