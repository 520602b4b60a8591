// SSH keys for the tests: public keys of throwaway pairs (ssh-keygen; the
// private halves were deleted at once), and private keys made for each run.
import * as crypto from "crypto";
import * as sshpk from "sshpk";

export const PUBLIC_KEYS = {
    ed25519: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIhUeXXbexzZoiLqPefvDpgz4u38N8nv0gISGcaWzUs1",
    ecdsa256: "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPDkvhLHJrOv7ZlmF99juKI+cswySynIxre/ti04x6i7b0iMCc8TYHfuuLOmZn8O+PzF8arYk5xxV+pdzVIzSBM=",
    ecdsa384: "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBKa+xy19qZZablb7j1nEy9paEy2PtIpUTlwrACOd6fGZHdZjb0lTwXJ2bZ1PO57MVbW/z1NughL4lXSTXfpB94JxsAloc32GKGAYxBjCWk79xJ8AqwvPyF5LEIKnxRLaWQ==",
    ecdsa521: "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAEbScuWmncBQo1nTiWZgGe0++uSzakAjE5zJiWKsiKQ4u7gFR9qUrn9fEZb26H+vuD/C88YFZPaoa29k3JK3/r2JAGjFGCKh10JTf28a7VRdKDLM0bPHaoqJbOiHHjjC/2kAhvOXPmvAino0rkfZg3Q+IaaL7Spf0HPWk1ukX3usuoYWg==",
    rsa3072: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCtwTyvLe8IaOvIRQZ9e97KSUteS+WXpv+zsqrr96o3yqckrRXP4+eCEKlr03yAePQNkm4OdniVjXCDlYLhQmQb7T66x4i4Uzuh0mPF3KQrU9v5FVxRbS6DwoC0lO35LttpZSuawnx/1Z+XMQKnvqhpr/XpkJePLmwJMVFaBE94D+TjbrmtDJ7GpEFdqDrnL9hRh0jlj8AazvCjudaWQo8EycvnQJqVzN8B34pArbAW127O1w36cVJ7VYaoDVlSNoqh8apFeYeHAWrLkzqgykrlyi7YOu9LD98ZXLenamcBsZDUm4/GZKuOBJgVCb/qJZsS2UzSjeq23uxQ4megSnS04+kIz3NumZYslBt+wrn7i/UGttRF9Phn4Xscg4TFYBJ3Yb0TePhBVE5q5yBApXIDIxGO3Y7gHtBGrDsJnCISdL6NR1QU4doEaS5ba6NxxPus3yeps+lBcl1CXzwZIzT/UtjULiM3GiQrMyovUE6GDC6ISppFemR/laRnqq3xW/8=",
    rsa1024: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDSEhqeXK+YJq+yGlvrfV7dcwwI3Yt4wNnxtF1uAbvi0IAtnrVpLfYcCoBR9Bu8Flij20i4RszgQLuTb7bmsRnoGCDKqGmnf6QZpDhgUc+f69zEJ0qksj9aWTvnNMFZV11HhtMeYcmAEKb8HK62GOKiUUYwYTudMoCSEQp7SeyAWQ==",
};

/**
 * A private key in the OpenSSH format, as users give aihpc:sshPrivateKey: made
 * for each test run (never committed), from a fresh ed25519 pair.
 */
export function freshPrivateKey(type: "ed25519" | "rsa" | "ec" = "ed25519", opts: { passphrase?: string; bits?: number } = {}): string {
    const gen = (crypto.generateKeyPairSync as (t: string, o: object) => { privateKey: crypto.KeyObject })(
        type,
        type === "rsa" ? { modulusLength: opts.bits ?? 3072 } : type === "ec" ? { namedCurve: "P-256" } : {},
    );
    const pem = gen.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const key = sshpk.parsePrivateKey(pem, "pkcs8");
    return key.toString("openssh", opts.passphrase ? { passphrase: opts.passphrase, cipher: "aes128-ctr" } as object : undefined);
}

/** One per test process: fixtures share it. */
export const TEST_PRIVATE_KEY = freshPrivateKey();
