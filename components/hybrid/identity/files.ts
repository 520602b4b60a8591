// The files the identity steps install that do not depend on the host:
// rendered here (pure functions: they show in the plan and are unit-tested).
// The per-user credential files name paths under each user's home, which
// only the host knows: credentials.sh writes those with jq.
import { HybridConfig } from "../../../config/hybrid";
import { aptPreference, aptSource } from "../../steps/files";

export const PATHS = {
    /** Login shells (so Slurm jobs): Application Default Credentials and gcloud. */
    profile: "/etc/profile.d/aihpc-gcp.sh",
    /** User services (systemd user managers). */
    environmentD: "/etc/environment.d/60-aihpc-gcp.conf",
    /** System services (the manager's DefaultEnvironment=). */
    systemConf: "/etc/systemd/system.conf.d/60-aihpc-gcp.conf",
} as const;

/** Each research user's copy of the credentials, under their home. */
export const USER_CREDENTIALS_SUBDIR = ".config/aihpc/gcp";

/** The apt repository name lib.sh `aihpc_apt_repo` installs Google's source, pin and keyring under. */
export const GCLOUD_REPO_NAME = "google-cloud";

/** `name=version` of what the gcloud step installs: the CLI, and Cloud Storage FUSE with data mode gcsfuse. */
export function gcloudPackageSpecs(c: HybridConfig, gcsfuse: boolean): string[] {
    return [`google-cloud-cli=${c.gcloudCli.version}-0`, ...(gcsfuse ? [`gcsfuse=${c.data.gcsfuseVersion}`] : [])];
}

/** Google's repository (or its mirror): the CLI's suite, and gcsfuse's with it. */
export function gcloudSource(c: HybridConfig, gcsfuse: boolean): string {
    const repo = c.gcloudCli.aptRepository.replace(/\/+$/, "");
    return aptSource(GCLOUD_REPO_NAME, "gcp.hybrid.gcloudCli.aptRepository", [`${repo} cloud-sdk main`, ...(gcsfuse ? [`${repo} gcsfuse-bookworm main`] : [])]);
}

/** Each package held at its version. */
export function gcloudPin(c: HybridConfig, gcsfuse: boolean): string {
    return aptPreference(
        "Managed by aihpc (gcp.hybrid: pinned versions)",
        gcloudPackageSpecs(c, gcsfuse).map((s) => ({ packages: [s.slice(0, s.indexOf("="))], version: s.slice(s.indexOf("=") + 1) })),
    );
}

/** The credential environment for login shells, user services and system services. */
export function credentialEnvironment(certDir: string, project: string): { profile: string; environmentD: string; systemConf: string } {
    const user = `${USER_CREDENTIALS_SUBDIR}/credentials.json`;
    return {
        profile: [
            "# Managed by aihpc (gcp.hybrid): Application Default Credentials and gcloud act as the",
            "# research user (their own certificate) or, for root, the workstation's service account.",
            `if [ -r "$HOME/${user}" ]; then`,
            `  GOOGLE_APPLICATION_CREDENTIALS="$HOME/${user}"`,
            `elif [ -r ${certDir}/credentials.json ]; then`,
            `  GOOGLE_APPLICATION_CREDENTIALS=${certDir}/credentials.json`,
            "fi",
            'if [ -n "${GOOGLE_APPLICATION_CREDENTIALS:-}" ]; then',
            '  CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE="$GOOGLE_APPLICATION_CREDENTIALS"',
            "  export GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
            "fi",
            `GOOGLE_CLOUD_PROJECT=${project}`,
            `CLOUDSDK_CORE_PROJECT=${project}`,
            "export GOOGLE_CLOUD_PROJECT CLOUDSDK_CORE_PROJECT",
        ].join("\n"),
        environmentD: [
            "# Managed by aihpc (gcp.hybrid): user services authenticate as their user.",
            `GOOGLE_APPLICATION_CREDENTIALS=\${HOME}/${user}`,
            `CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE=\${HOME}/${user}`,
            `GOOGLE_CLOUD_PROJECT=${project}`,
            `CLOUDSDK_CORE_PROJECT=${project}`,
        ].join("\n"),
        systemConf: [
            "# Managed by aihpc (gcp.hybrid): system services authenticate as the workstation.",
            "[Manager]",
            `DefaultEnvironment=GOOGLE_APPLICATION_CREDENTIALS=${certDir}/credentials.json CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE=${certDir}/credentials.json GOOGLE_CLOUD_PROJECT=${project} CLOUDSDK_CORE_PROJECT=${project}`,
        ].join("\n"),
    };
}
