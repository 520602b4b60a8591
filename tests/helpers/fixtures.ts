// Small valid configs that tests modify. Host keys are syntactically valid
// placeholders; the private key is a secret placeholder (never a real key).
export const HOST_KEY_1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9mZmxpbmUgdGVzdCBrZXkgb25lIG5vdCByZWFsISEh";
export const HOST_KEY_2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9mZmxpbmUgdGVzdCBrZXkgdHdvIG5vdCByZWFsISEh";

export function oneHost(): Record<string, any> {
    return {
        workstation: {
            hosts: [{ name: "ws1", address: "10.0.0.11", hostKey: HOST_KEY_1, gpus: { count: 1 } }],
        },
        sshPrivateKey: "test-private-key",
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
        sshPrivateKey: "test-private-key",
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
        },
    };
}
