import { TEST_PRIVATE_KEY } from "./ssh-keys";
// Small valid configs that tests modify. Host keys are syntactically valid
// placeholders; the private key is made for each test run (ssh-keys.ts).
export const HOST_KEY_1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9mZmxpbmUgdGVzdCBrZXkgb25lIG5vdCByZWFsISEh";
export const HOST_KEY_2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9mZmxpbmUgdGVzdCBrZXkgdHdvIG5vdCByZWFsISEh";

export function oneHost(): Record<string, any> {
    return {
        workstation: {
            hosts: [{ name: "ws1", address: "10.0.0.11", hostKey: HOST_KEY_1, gpus: { count: 1 } }],
        },
        sshPrivateKey: TEST_PRIVATE_KEY,
    };
}

export function twoHosts(): Record<string, any> {
    return {
        workstation: {
            hosts: [
                { name: "ws1", address: "10.0.0.11", hostKey: HOST_KEY_1, roles: ["controller", "compute"], gpus: { count: 1 } },
                { name: "ws2", address: "10.0.0.12", hostKey: HOST_KEY_2, roles: ["compute"], gpus: { count: 1 } },
            ],
        },
        sshPrivateKey: TEST_PRIVATE_KEY,
    };
}

export function withGcp(base: Record<string, any> = oneHost()): Record<string, any> {
    return {
        ...base,
        gcp: {
            project: "test-project-1",
            region: "europe-west4",
            budget: { billingAccount: "012345-6789AB-CDEF01", amount: 100 },
            github: { repository: "example/aihpc", repositoryId: "111", ownerId: "222" },
            hybrid: hybridPins(),
        },
    };
}

/**
 * The pins the bridge requires (config/hybrid.ts): TEST values. The fingerprint is the Google Cloud key Debian 12's
 * extrepo-offline-data records (google_cloud.asc); the digest is a placeholder, not any image's.
 */
export const TEST_GOOGLE_KEY = "A362B822F6DEDC652817EA46B53DC80D13EDEF05";
export const TEST_BASE_IMAGE = `pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime@sha256:${"0123456789abcdef".repeat(4)}`;
export function hybridPins(over: { gcloudCli?: Record<string, any>; image?: Record<string, any>; [k: string]: any } = {}): Record<string, any> {
    const { gcloudCli, image, ...rest } = over;
    return { ...rest, gcloudCli: { keyFingerprints: [TEST_GOOGLE_KEY], ...gcloudCli }, image: { baseImage: TEST_BASE_IMAGE, ...image } };
}
