// Issue 7, the hybrid bridge on a real Debian 12 host: the `gcp` stack's
// program applied through the executor to a booted testbed host. Google Cloud
// is out of reach here, so the cloud resources get the plan's mock values
// (bucket names, service accounts, provider names, a mock X.509 key and
// certificate) while every workstation command runs for real.
//
// What could NOT run here, and is covered only under mocks (tests/unit/hybrid):
//   - the image build and push (`docker.Image`: no registry, no Docker Hub; its
//     inputs are checked, its digest is the plan's mock);
//   - every real gcloud call: token exchange over mTLS, `gcloud storage rsync`,
//     the Vertex AI submission, gcsfuse mounts. Their dry runs run here.
//   - Google's own apt repository: the Google Cloud CLI step is exercised
//     against a local mirror served by this test (a stand-in google-cloud-cli
//     package signed with a throwaway key), and against the unreachable
//     default, where it must fail clearly and leave no source behind.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bootTestbed, BRIDGE_ADDRESS, Testbed, TestHost } from "./hosts";
import { Executor, RanCommand } from "./executor";
import { testbedStackConfig } from "./stack-config";
import { runGpuTemplateJob, waitIdle } from "./cluster";
import { runProgram, toCliConfig } from "../helpers/harness";

jest.setTimeout(2_400_000);

const log = (m: string) => process.stdout.write(`[hybrid ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const PROJECT = "test-project-1";
const STACK = "testbed";
const MIRROR_PORT = 8089;
const GCLOUD_VERSION = "520.0.0";
const CERT_DIR = "/etc/aihpc/gcp";
const ALICE_DIR = "/home/alice/.config/aihpc/gcp";
const BOB_DIR = "/home/bob/.config/aihpc/gcp";
const USER_CA = "/etc/aihpc/user-ca";
const X509 = "gcp-wif-x509";
const CRED_FILES = ["credentials.json", "certificate_config.json", "client.crt", "client.key"];
const HYBRID_FILES = [
    "/etc/profile.d/aihpc-gcp.sh",
    "/etc/environment.d/60-aihpc-gcp.conf",
    "/etc/systemd/system.conf.d/60-aihpc-gcp.conf",
    "/etc/aihpc/hybrid.env",
    "/usr/local/bin/aihpc-burst",
    "/usr/local/share/aihpc/hybrid",
    "/usr/local/sbin/aihpc-data-sync",
    "/etc/systemd/system/aihpc-data-sync.service",
    "/etc/systemd/system/aihpc-data-sync.timer",
    "/etc/apt/sources.list.d/aihpc-google-cloud.list",
    "/etc/apt/preferences.d/aihpc-google-cloud",
    "/etc/apt/keyrings/aihpc-google-cloud.gpg",
    "/root/.docker/config.json",
    "/home/alice/.docker/config.json",
    CERT_DIR,
    ALICE_DIR,
    USER_CA,
];

/** The gcp stack for one testbed host: workstation as in issue 3, plus gcp with the bridge pointed at the local mirror. */
function stackConfig(tb: Testbed, host: TestHost, opts: { gcp: boolean; mirror?: string; mirrorKey?: string; users?: string[] }): { config: Record<string, string>; secretKeys: string[] } {
    const { config, secretKeys } = testbedStackConfig(tb, { hosts: [host] });
    const ws = JSON.parse(config["aihpc:workstation"]);
    ws.base = { ...(ws.base ?? {}), users: (opts.users ?? ["alice", "bob"]).map((name) => ({ name })) };
    // The testbed's mirror is plain http: an explicit opt-in for its host.
    if (opts.mirror) ws.httpRepositoryHosts = [...(ws.httpRepositoryHosts ?? ["deb.debian.org"]), new URL(opts.mirror).hostname];
    const raw: Record<string, unknown> = { workstation: ws };
    if (opts.gcp) {
        raw.gcp = {
            project: PROJECT,
            region: "europe-west4",
            budget: { billingAccount: "012345-6789AB-CDEF01", amount: 100 },
            hybrid: {
                // The mirror's own key is the pinned fingerprint set: the step installs it only after checking it.
                gcloudCli: { aptRepository: opts.mirror ?? "https://packages.cloud.google.com/apt", version: GCLOUD_VERSION, keyFingerprints: [opts.mirrorKey ?? "0".repeat(40)] },
                // The testbed builds no image; a placeholder digest (not any image's) satisfies the pin.
                image: { baseImage: `pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime@sha256:${"0".repeat(64)}` },
            },
        };
    }
    const extra = toCliConfig(raw);
    return { config: { ...config, ...extra.config }, secretKeys };
}

/** A signed apt repository with a stand-in google-cloud-cli (gcloud and docker-credential-gcloud that say they are stand-ins); returns its key's fingerprint. */
function buildMirror(dir: string): string {
    const arch = spawnSync("dpkg", ["--print-architecture"], { encoding: "utf8" }).stdout.trim();
    const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
        const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
        if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
    };
    const pkg = path.join(dir, "pkg");
    fs.mkdirSync(path.join(pkg, "DEBIAN"), { recursive: true });
    fs.mkdirSync(path.join(pkg, "usr", "bin"), { recursive: true });
    fs.writeFileSync(
        path.join(pkg, "DEBIAN", "control"),
        `Package: google-cloud-cli\nVersion: ${GCLOUD_VERSION}-0\nArchitecture: ${arch}\nMaintainer: aihpc testbed <testbed@localhost>\nDescription: stand-in for the Google Cloud CLI (testbed mirror)\n`,
    );
    for (const [f, text] of [
        ["gcloud", '#!/bin/sh\necho "gcloud stand-in (aihpc testbed): $*"\nexit 3\n'],
        ["docker-credential-gcloud", "#!/bin/sh\necho 'docker-credential-gcloud stand-in' >&2\nexit 3\n"],
    ]) {
        fs.writeFileSync(path.join(pkg, "usr", "bin", f), text, { mode: 0o755 });
    }
    const poolDir = path.join(dir, "repo", "pool");
    fs.mkdirSync(poolDir, { recursive: true });
    const deb = path.join(poolDir, `google-cloud-cli_${GCLOUD_VERSION}-0_${arch}.deb`);
    run("dpkg-deb", ["--root-owner-group", "-b", pkg, deb]);
    const control = run("dpkg-deb", ["-f", deb]).trim();
    const bytes = fs.readFileSync(deb);
    const sha = (b: Buffer | string) => require("crypto").createHash("sha256").update(b).digest("hex");
    const packages = `${control}\nFilename: pool/${path.basename(deb)}\nSize: ${bytes.length}\nSHA256: ${sha(bytes)}\n\n`;
    const dist = path.join(dir, "repo", "dists", "cloud-sdk");
    fs.mkdirSync(path.join(dist, "main", `binary-${arch}`), { recursive: true });
    fs.writeFileSync(path.join(dist, "main", `binary-${arch}`, "Packages"), packages);
    const release = [
        "Origin: aihpc-testbed",
        "Label: aihpc-testbed",
        "Suite: cloud-sdk",
        "Codename: cloud-sdk",
        `Date: ${new Date().toUTCString()}`,
        `Architectures: ${arch}`,
        "Components: main",
        "SHA256:",
        ` ${sha(packages)} ${Buffer.byteLength(packages)} main/binary-${arch}/Packages`,
        "",
    ].join("\n");
    fs.writeFileSync(path.join(dist, "Release"), release);
    const gnupg = path.join(dir, "gnupg");
    fs.mkdirSync(gnupg, { mode: 0o700 });
    const g = (args: string[]) => run("gpg", ["--homedir", gnupg, "--batch", "--yes", ...args]);
    g(["--passphrase", "", "--quick-gen-key", "aihpc testbed mirror <testbed@localhost>", "ed25519", "sign", "1d"]);
    g(["--clearsign", "-o", path.join(dist, "InRelease"), path.join(dist, "Release")]);
    fs.mkdirSync(path.join(dir, "repo", "doc"), { recursive: true });
    fs.writeFileSync(path.join(dir, "repo", "doc", "apt-key.gpg"), g(["--armor", "--export"]));
    return g(["--with-colons", "--list-keys"])
        .split("\n")
        .find((l) => l.startsWith("fpr:"))!
        .split(":")[9];
}

/** `stat` of files as "mode owner:group path" lines. */
async function modes(tb: Testbed, h: TestHost, files: string[]): Promise<string[]> {
    return (await tb.sshOk(h, `stat -c '%a %U:%G %n' ${files.join(" ")}`)).trim().split("\n");
}

describe("the hybrid bridge on a booted host (issue 7)", () => {
    let tb: Testbed;
    let ws1: TestHost;
    let ex: Executor;
    let mirrorDir: string;
    let server: ChildProcess | undefined;
    let mirror: string;
    let mirrorKey: string;
    let first: RanCommand[] = [];
    let firstOutputs: Record<string, unknown> = {};

    beforeAll(async () => {
        mirrorDir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-mirror-"));
        mirrorKey = buildMirror(mirrorDir);
        tb = await bootTestbed({ names: ["ws1"], fakeGpus: true, log });
        [ws1] = tb.hosts;
        mirror = `http://${BRIDGE_ADDRESS}:${MIRROR_PORT}`;
        server = spawn("python3", ["-m", "http.server", String(MIRROR_PORT), "--bind", BRIDGE_ADDRESS, "--directory", path.join(mirrorDir, "repo")], { stdio: "ignore" });
        // The testbed's apt proxy admits Debian's hosts only: the mirror is reached directly (testbed-only setting).
        await tb.sshOk(ws1, `echo 'Acquire::http::Proxy::${BRIDGE_ADDRESS} "DIRECT";' > /etc/apt/apt.conf.d/89testbed-mirror-direct`);
        ex = new Executor({ stack: STACK, log: (m) => log(`  ${m}`) });
        currentEx = ex;
    });

    afterAll(async () => {
        ex?.dispose();
        if (server?.pid) process.kill(server.pid);
        await tb?.destroy();
        if (mirrorDir) {
            spawnSync("gpgconf", ["--homedir", path.join(mirrorDir, "gnupg"), "--kill", "gpg-agent"]);
            fs.rmSync(mirrorDir, { recursive: true, force: true });
        }
    });

    test("1. apply: workstation and bridge provisioned for real", async () => {
        const r = await ex.apply(...Object.values(stackConfig(tb, ws1, { gcp: true, mirror, mirrorKey })) as [Record<string, string>, string[]]);
        log(`first apply: ${r.ran.length} commands in ${r.durationMs} ms${r.error ? ` -- failed: ${r.error.message.slice(0, 2000)}` : ""}`);
        if (r.error) throw r.error;
        first = r.ran;
        firstOutputs = r.outputs;
        const names = r.ran.map((c) => c.name);
        for (const n of ["hybrid-user-certs-ws1", "hybrid-identity-ws1-credentials", "hybrid-identity-ws1-gcloud", "hybrid-identity-ws1-docker-auth", "hybrid-data-ws1-env", "hybrid-data-ws1-sync", "hybrid-burst-ws1"]) {
            expect(names).toContain(n);
        }
        // Access after the host's users exist; docker auth after credentials and gcloud.
        const at = (n: string) => r.ran.find((c) => c.name === n)!;
        const end = (c: RanCommand) => c.startedAt + c.durationMs;
        expect(at("hybrid-identity-ws1-credentials").startedAt).toBeGreaterThanOrEqual(end(at("ws-ws1-base-users")));
        expect(at("hybrid-identity-ws1-docker-auth").startedAt).toBeGreaterThanOrEqual(end(at("hybrid-identity-ws1-gcloud")));
        // The key never appears in a command the executor ran.
        for (const c of r.ran) expect(c.command).not.toContain("PRIVATE KEY-----\nMOCK");
    });

    test("2. credential files: 0600, owned by root (services) and by each research user", async () => {
        expect(await modes(tb, ws1, [CERT_DIR, ...CRED_FILES.map((f) => `${CERT_DIR}/${f}`)])).toEqual([
            `700 root:root ${CERT_DIR}`,
            ...CRED_FILES.map((f) => `600 root:root ${CERT_DIR}/${f}`),
        ]);
        expect(await modes(tb, ws1, [ALICE_DIR, ...CRED_FILES.map((f) => `${ALICE_DIR}/${f}`)])).toEqual([
            `700 alice:alice ${ALICE_DIR}`,
            ...CRED_FILES.map((f) => `600 alice:alice ${ALICE_DIR}/${f}`),
        ]);
        expect(await tb.sshOk(ws1, `head -1 ${ALICE_DIR}/client.key`)).toMatch(/^-----BEGIN .*PRIVATE KEY-----/);
        // A key of alice's own, not the workstation's.
        expect(await tb.sshOk(ws1, `openssl pkey -in ${ALICE_DIR}/client.key -pubout`)).not.toBe(await tb.sshOk(ws1, `openssl pkey -in ${CERT_DIR}/client.key -pubout 2>/dev/null || true`));
        const cred = JSON.parse(await tb.sshOk(ws1, `cat ${ALICE_DIR}/credentials.json`));
        expect(cred.type).toBe("external_account");
        expect(cred).not.toHaveProperty("service_account_impersonation_url");
        expect(cred.audience).toBe(`//iam.googleapis.com/${ex.state.resources[urnOf(X509)].outputs.name}`);
        expect(cred.credential_source.certificate.certificate_config_location).toBe(`${ALICE_DIR}/certificate_config.json`);
        expect(JSON.parse(await tb.sshOk(ws1, `cat ${ALICE_DIR}/certificate_config.json`))).toEqual({
            cert_configs: { workload: { cert_path: `${ALICE_DIR}/client.crt`, key_path: `${ALICE_DIR}/client.key` } },
        });
        // The service identity (root, system services) still acts as the workstation's account.
        expect(JSON.parse(await tb.sshOk(ws1, `cat ${CERT_DIR}/credentials.json`)).service_account_impersonation_url).toContain(`aihpc-${STACK}-ws@${PROJECT}.iam.gserviceaccount.com`);
        // The host's user CA: key 0600 root, never anywhere else.
        expect(await modes(tb, ws1, [USER_CA, `${USER_CA}/ca.key`, `${USER_CA}/ca.crt`])).toEqual([`700 root:root ${USER_CA}`, `600 root:root ${USER_CA}/ca.key`, `644 root:root ${USER_CA}/ca.crt`]);
        // Another user cannot read them.
        const other = await tb.ssh(ws1, `useradd -M eve 2>/dev/null; su -s /bin/sh eve -c 'cat ${ALICE_DIR}/client.key; cat ${CERT_DIR}/client.key' 2>&1; userdel eve`);
        expect(other.stdout).not.toContain("PRIVATE KEY");
        expect(other.stdout).toMatch(/Permission denied/);
    });

    test("2b. two users, two principals: each certificate is the user's subject, issued by the host's user CA the pool trusts", async () => {
        const subjectOf = async (dir: string) => (await tb.sshOk(ws1, `openssl x509 -in ${dir}/client.crt -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p'`)).trim();
        const principals = (firstOutputs.gcp as any).workstationGcloud.users;
        expect(await subjectOf(ALICE_DIR)).toBe(`aihpc-${STACK}-u-alice`);
        expect(await subjectOf(BOB_DIR)).toBe(`aihpc-${STACK}-u-bob`);
        expect(principals.alice.principal).toMatch(new RegExp(`/subject/aihpc-${STACK}-u-alice$`));
        expect(principals.bob.principal).toMatch(new RegExp(`/subject/aihpc-${STACK}-u-bob$`));
        expect(principals.alice.principal).not.toBe(principals.bob.principal);
        expect(await modes(tb, ws1, [BOB_DIR, ...CRED_FILES.map((f) => `${BOB_DIR}/${f}`)])).toEqual([`700 bob:bob ${BOB_DIR}`, ...CRED_FILES.map((f) => `600 bob:bob ${BOB_DIR}/${f}`)]);
        for (const d of [ALICE_DIR, BOB_DIR]) {
            expect((await tb.sshOk(ws1, `openssl verify -CAfile ${USER_CA}/ca.crt ${d}/client.crt`)).trim()).toBe(`${d}/client.crt: OK`);
            // openssl prints the extensions in the certificate's order, not the order asked for.
            const ext = await tb.sshOk(ws1, `openssl x509 -in ${d}/client.crt -noout -ext extendedKeyUsage,basicConstraints`);
            expect(ext).toMatch(/Extended Key Usage:\s*\n\s*TLS Web Client Authentication\s*$/m);
            expect(ext).toMatch(/Basic Constraints: critical\s*\n\s*CA:FALSE/);
        }
        // The CA certificate on the host is the one the X.509 provider trusts (read back by Pulumi).
        const provider = ex.state.resources[urnOf(X509)].inputs as any;
        const hostCa = (await tb.sshOk(ws1, `cat ${USER_CA}/ca.crt`)).trim();
        expect(provider.x509.trustStore.trustAnchors.map((a: any) => a.pemCertificate.trim())).toContain(hostCa);
        expect(provider.attributeCondition).toBe(`assertion.subject.dn.cn in ["aihpc-${STACK}-ws", "aihpc-${STACK}-u-alice", "aihpc-${STACK}-u-bob"]`);
        // Bob cannot read alice's key, nor the CA's.
        const other = await tb.ssh(ws1, `su -s /bin/sh bob -c 'cat ${ALICE_DIR}/client.key; cat ${USER_CA}/ca.key' 2>&1`);
        expect(other.stdout).not.toContain("PRIVATE KEY");
    });

    test("3. Application Default Credentials: login shells, user managers, system services", async () => {
        expect((await tb.sshOk(ws1, "su - alice -c 'echo $GOOGLE_APPLICATION_CREDENTIALS $CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE $GOOGLE_CLOUD_PROJECT'")).trim()).toBe(
            `${ALICE_DIR}/credentials.json ${ALICE_DIR}/credentials.json ${PROJECT}`,
        );
        expect((await tb.sshOk(ws1, "bash -lc 'echo $GOOGLE_APPLICATION_CREDENTIALS'")).trim()).toBe(`${CERT_DIR}/credentials.json`);
        const userEnv = await tb.sshOk(ws1, "su alice -s /bin/sh -c 'HOME=/home/alice /usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator'");
        expect(userEnv).toContain(`GOOGLE_APPLICATION_CREDENTIALS=${ALICE_DIR}/credentials.json`);
        expect(await tb.sshOk(ws1, "systemctl show-environment")).toContain(`GOOGLE_APPLICATION_CREDENTIALS=${CERT_DIR}/credentials.json`);
        const svc = await tb.sshOk(ws1, "systemd-run --quiet --wait --pipe /bin/sh -c 'echo $GOOGLE_APPLICATION_CREDENTIALS'");
        expect(svc.trim()).toBe(`${CERT_DIR}/credentials.json`);
    });

    test("4. Google Cloud CLI from the configured mirror, pinned; Docker's credential helper configured", async () => {
        expect((await tb.sshOk(ws1, "dpkg-query -W -f='${Version}' google-cloud-cli")).trim()).toBe(`${GCLOUD_VERSION}-0`);
        expect(await tb.sshOk(ws1, "cat /etc/apt/sources.list.d/aihpc-google-cloud.list")).toContain(`deb [signed-by=/etc/apt/keyrings/aihpc-google-cloud.gpg] ${mirror} cloud-sdk main`);
        const pin = await tb.sshOk(ws1, "cat /etc/apt/preferences.d/aihpc-google-cloud");
        expect(pin).toContain(`Package: google-cloud-cli\nPin: version ${GCLOUD_VERSION}-0\nPin-Priority: 1001`);
        expect(await tb.sshOk(ws1, "apt-cache policy google-cloud-cli")).toMatch(new RegExp(`Candidate: ${GCLOUD_VERSION.replace(/\./g, "\\.")}-0`));
        for (const f of ["/root/.docker/config.json", "/home/alice/.docker/config.json"]) {
            expect(JSON.parse(await tb.sshOk(ws1, `cat ${f}`))).toEqual({ credHelpers: { "europe-west4-docker.pkg.dev": "gcloud" } });
        }
        expect(await modes(tb, ws1, ["/home/alice/.docker/config.json", "/home/alice/.docker"])).toEqual([
            "600 alice:alice /home/alice/.docker/config.json",
            "700 alice:alice /home/alice/.docker",
        ]);
        expect((await tb.sshOk(ws1, "command -v docker-credential-gcloud")).trim()).toBe("/usr/bin/docker-credential-gcloud");
    });

    test("5. aihpc-burst --dry-run prints a valid Vertex AI job spec with the stack's values", async () => {
        const env = Object.fromEntries(
            (await tb.sshOk(ws1, "cat /etc/aihpc/hybrid.env"))
                .split("\n")
                .filter((l) => /^[A-Z]/.test(l))
                .map((l) => l.split(/=(.*)/s).slice(0, 2)),
        );
        const out = await tb.sshOk(ws1, "su - alice -c 'aihpc-burst --dry-run --name smoke -- --steps 5'");
        const job = JSON.parse(out);
        const pool = job.jobSpec.workerPoolSpecs[0];
        expect(pool.machineSpec).toEqual({ machineType: "g2-standard-8", acceleratorType: "NVIDIA_L4", acceleratorCount: 1 });
        expect(pool.containerSpec.imageUri).toBe(env.AIHPC_IMAGE);
        expect(pool.containerSpec.imageUri).toMatch(new RegExp(`^europe-west4-docker\\.pkg\\.dev/${PROJECT}/aihpc-${STACK}-training/training@sha256:[0-9a-f]{64}$`));
        expect(pool.containerSpec.args).toEqual(["--steps", "5"]);
        expect(job.jobSpec.serviceAccount).toBe(`aihpc-${STACK}-training@${PROJECT}.iam.gserviceaccount.com`);
        expect(job.jobSpec.baseOutputDirectory.outputUriPrefix).toBe(`gs://aihpc-${STACK}-checkpoints-${PROJECT}/vertex/smoke`);
        expect(job.jobSpec.tensorboard).toBe(env.AIHPC_TENSORBOARD);
        expect(pool.containerSpec.env).toEqual(expect.arrayContaining([{ name: "AIHPC_DATASETS_DIR", value: `/gcs/aihpc-${STACK}-datasets-${PROJECT}` }]));
        // The local twin of that job is installed for Slurm; the switch to Vertex goes through aihpc-burst.
        const viaTemplate = await tb.sshOk(ws1, "su - alice -c 'AIHPC_TARGET=vertex AIHPC_RUN=smoke PATH=/usr/local/bin:$PATH bash /usr/local/share/aihpc/hybrid/train.sbatch --steps 5' 2>&1 || true");
        // Without --dry-run the switch submits: here it stops at the stand-in gcloud, which is what cannot run on the testbed.
        expect(viaTemplate).toMatch(/gcloud stand-in|no access token/);
    });

    test("6. data sync: units installed, the timer enabled, the dry run names the stack's buckets", async () => {
        expect((await tb.sshOk(ws1, "systemctl is-enabled aihpc-data-sync.timer; systemctl is-active aihpc-data-sync.timer")).trim().split("\n")).toEqual(["enabled", "active"]);
        const unit = await tb.sshOk(ws1, "systemctl cat aihpc-data-sync.service");
        expect(unit).toContain("EnvironmentFile=/etc/aihpc/hybrid.env");
        expect(unit).toContain(`GOOGLE_APPLICATION_CREDENTIALS=${CERT_DIR}/credentials.json`);
        const dry = await tb.sshOk(ws1, "aihpc-data-sync --dry-run");
        expect(dry.trim().split("\n")).toEqual([
            `would run: gcloud storage rsync --recursive gs://aihpc-${STACK}-datasets-${PROJECT} /srv/aihpc/datasets`,
            `would run: gcloud storage rsync --recursive /srv/aihpc/checkpoints gs://aihpc-${STACK}-checkpoints-${PROJECT}/workstation/ws1`,
        ]);
        expect(await modes(tb, ws1, ["/srv/aihpc/datasets", "/srv/aihpc/checkpoints"])).toEqual(["2775 root:research /srv/aihpc/datasets", "2775 root:research /srv/aihpc/checkpoints"]);
    });

    test("7. a second apply runs nothing; each step run again by hand says unchanged", async () => {
        const r = await ex.apply(...Object.values(stackConfig(tb, ws1, { gcp: true, mirror, mirrorKey })) as [Record<string, string>, string[]]);
        if (r.error) throw r.error;
        expect(r.ran.map((c) => c.name)).toEqual([]);
        for (const c of first.filter((x) => x.name.startsWith("hybrid-"))) {
            // Its stdin as the provider sends it: the payload of files rendered for the host, and a secret.
            const input = ex.state.resources[c.urn].inputs.stdin;
            const stdin = typeof input === "string" ? input : undefined;
            const again = await tb.sshOk(ws1, c.command, { stdin, timeoutMs: 300_000 });
            expect([c.name, again.trim().split("\n").pop()]).toEqual([c.name, "aihpc: unchanged"]);
        }
    });

    test("7b. removing bob: his files go, the host's user CA is rotated, alice is re-issued, the pool no longer trusts bob's certificate", async () => {
        await tb.sshOk(ws1, `cp ${BOB_DIR}/client.crt /root/bob-old.crt && cp ${USER_CA}/ca.crt /root/ca-old.crt`);
        const oldCa = (await tb.sshOk(ws1, "cat /root/ca-old.crt")).trim();
        const r = await ex.apply(...Object.values(stackConfig(tb, ws1, { gcp: true, mirror, mirrorKey, users: ["alice"] })) as [Record<string, string>, string[]]);
        if (r.error) throw r.error;
        expect(r.ran.map((c) => c.name)).toEqual(expect.arrayContaining(["hybrid-user-certs-ws1", "hybrid-identity-ws1-credentials"]));
        expect((await tb.ssh(ws1, `test -e ${BOB_DIR}/client.key || test -e ${BOB_DIR}/credentials.json`)).code).not.toBe(0);
        const newCa = (await tb.sshOk(ws1, `cat ${USER_CA}/ca.crt`)).trim();
        expect(newCa).not.toBe(oldCa);
        expect((await tb.sshOk(ws1, `openssl verify -CAfile ${USER_CA}/ca.crt ${ALICE_DIR}/client.crt`)).trim()).toBe(`${ALICE_DIR}/client.crt: OK`);
        expect((await tb.ssh(ws1, `openssl verify -CAfile ${USER_CA}/ca.crt /root/bob-old.crt`)).code).not.toBe(0);
        const provider = ex.state.resources[urnOf(X509)].inputs as any;
        const anchors = provider.x509.trustStore.trustAnchors.map((a: any) => a.pemCertificate.trim());
        expect(anchors).toContain(newCa);
        expect(anchors).not.toContain(oldCa);
        expect(provider.attributeCondition).toBe(`assertion.subject.dn.cn in ["aihpc-${STACK}-ws", "aihpc-${STACK}-u-alice"]`);
        // Every trust anchor of the pool refuses bob's old certificate.
        for (const [i, pem] of anchors.entries()) {
            await tb.sshOk(ws1, `cat > /root/anchor-${i}.pem`, { stdin: `${pem}\n` });
            expect((await tb.ssh(ws1, `openssl verify -CAfile /root/anchor-${i}.pem /root/bob-old.crt`)).code).not.toBe(0);
        }
        await tb.sshOk(ws1, "rm -f /root/bob-old.crt /root/ca-old.crt /root/anchor-*.pem");
        // Settled: the next apply runs nothing.
        const again = await ex.apply(...Object.values(stackConfig(tb, ws1, { gcp: true, mirror, mirrorKey, users: ["alice"] })) as [Record<string, string>, string[]]);
        if (again.error) throw again.error;
        expect(again.ran.map((c) => c.name)).toEqual([]);
    });

    test("8. the Google Cloud CLI step fails clearly when the repository is out of reach, and leaves no source", async () => {
        // The same step with the default repository (Google's, unreachable from the testbed).
        const { config, secretKeys } = stackConfig(tb, ws1, { gcp: true });
        const plan = await runProgram(JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^aihpc:/, ""), tryJson(v)])))), {
            secrets: secretKeys.map((k) => k.replace(/^aihpc:/, "")),
            stack: STACK,
        });
        const step = plan.inputsOf("hybrid-identity-ws1-gcloud");
        const cmd = step.create as string;
        // With its stdin as the provider sends it: the source and pin rendered for the host.
        expect(typeof step.stdin).toBe("string");
        await tb.sshOk(ws1, "mv /etc/apt/sources.list.d/aihpc-google-cloud.list /root/saved.list");
        const r = await tb.ssh(ws1, cmd, { stdin: step.stdin, timeoutMs: 300_000 });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/aihpc: error: could not fetch the signing key https:\/\/packages\.cloud\.google\.com\/apt\/doc\/apt-key\.gpg from ws1: .*gcp\.hybrid\.gcloudCli.*nothing was installed/);
        expect((await tb.ssh(ws1, "test -e /etc/apt/sources.list.d/aihpc-google-cloud.list")).code).not.toBe(0);
        await tb.sshOk(ws1, "mv /root/saved.list /etc/apt/sources.list.d/aihpc-google-cloud.list");
    });

    test("9. removing the gcp side revokes the workstation's access and leaves local Slurm jobs running", async () => {
        const r = await ex.apply(...Object.values(stackConfig(tb, ws1, { gcp: false, users: ["alice"] })) as [Record<string, string>, string[]]);
        log(`apply without gcp: ${r.ran.length} commands`);
        if (r.error) throw r.error;
        expect(r.ran.every((c) => c.op === "delete" && c.name.startsWith("hybrid-"))).toBe(true);
        expect(r.ran.map((c) => c.name).sort()).toEqual(
            ["hybrid-burst-ws1", "hybrid-data-ws1-env", "hybrid-data-ws1-sync", "hybrid-identity-ws1-credentials", "hybrid-identity-ws1-docker-auth", "hybrid-identity-ws1-gcloud", "hybrid-user-certs-ws1"].sort(),
        );
        const left = await tb.ssh(ws1, `for f in ${HYBRID_FILES.join(" ")}; do if test -e "$f"; then echo "$f"; fi; done`);
        expect(left.stdout.trim()).toBe("");
        expect(await tb.sshOk(ws1, "systemctl show-environment")).not.toContain("GOOGLE_APPLICATION_CREDENTIALS");
        expect((await tb.ssh(ws1, "dpkg-query -W -f='${Status}' google-cloud-cli 2>/dev/null")).stdout).not.toContain("ok installed");
        expect((await tb.sshOk(ws1, "su - alice -c 'echo x${GOOGLE_APPLICATION_CREDENTIALS}x'")).trim()).toBe("xx");
        // The empty data directories went with it.
        expect((await tb.ssh(ws1, "test -e /srv/aihpc/datasets")).code).not.toBe(0);
        // Local work goes on.
        expect(await waitIdle(tb, ws1, ["ws1"])).toEqual({ ws1: "idle" });
        const job = await runGpuTemplateJob(tb, ws1, ws1);
        expect(job.output).toContain("on ws1: CUDA_VISIBLE_DEVICES=0");
    });

    test("10. destroy removes the rest", async () => {
        const r = await ex.destroy();
        if (r.error) throw r.error;
        expect(Object.keys(ex.state.resources)).toEqual([]);
    });
});

/** The URN of the one resource of the last apply with this name. */
function urnOf(name: string): string {
    const hits = Object.values(currentEx!.state.resources).filter((e) => e.name === name);
    if (hits.length !== 1) throw new Error(`expected one resource named ${name}, found ${hits.length}`);
    return hits[0].urn;
}
let currentEx: Executor | undefined;

function tryJson(v: string): unknown {
    try {
        return JSON.parse(v);
    } catch {
        return v;
    }
}
