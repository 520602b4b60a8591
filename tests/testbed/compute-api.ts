// Testbed only: a stand-in for the parts of Google Cloud a cloud node meets,
// run by the test on the testbed bridge (10.213.0.1), so that the power-save
// programs' `testbed` backend (components/hybrid/cloud-nodes/scripts) and the
// node bootstrap (components/gcp/cloud-nodes/scripts/node-bootstrap.sh) run
// unchanged against real hosts:
//   - Compute Engine (http, :8780): instances insert (from a template the
//     stack defined), delete, list with a name filter, zone operations wait,
//     with Compute Engine's paths, operation objects and error shapes. An
//     instance is a container host booted from the cached rootfs
//     (hosts.ts addHost), recorded in the run state first, so a crash is
//     cleaned up like any testbed host. Zones can be told to fail with a
//     stockout (an operation error) or a quota error (HTTP 403).
//   - the metadata server (http, :80 as metadata.google.internal): the
//     template's metadata for the instance the request comes from (by source
//     address), and a per-instance service-account token;
//   - Secret Manager (https, :443 as secretmanager.googleapis.com, a
//     throwaway CA the booted hosts trust): `versions/latest:access` of the
//     stack's secrets, only with a token the metadata server gave a live
//     instance.
// Each booted host runs the template's startup-script as Google's guest agent
// would (a testbed unit fetches it from the metadata server at boot).
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { BRIDGE_ADDRESS, Testbed, TestHost, writeFile } from "./hosts";
import type { Executor, StateEntry } from "./executor";

export const COMPUTE_PORT = 8780;
export const COMPUTE_API_URL = `http://${BRIDGE_ADDRESS}:${COMPUTE_PORT}/compute/v1`;

/** The stack's resources of one type, as the executor's state holds them after an apply. */
export function stateEntries(ex: Executor, type: string): StateEntry[] {
    return Object.values(ex.state.resources).filter((e) => e.type === type);
}

/** What the stack gave its InstanceTemplates (their metadata), by the self link the power-save programs send. */
export function stackTemplates(ex: Executor): Record<string, Record<string, string>> {
    return Object.fromEntries(
        stateEntries(ex, "gcp:compute/instanceTemplate:InstanceTemplate").map((e) => [String(e.outputs.selfLink), e.inputs.metadata as Record<string, string>]),
    );
}

/** What the stack stored in Secret Manager (the SecretVersion of each Secret), by the secret's name. */
export function stackSecrets(ex: Executor): Record<string, Buffer> {
    return Object.fromEntries(
        stateEntries(ex, "gcp:secretmanager/secret:Secret").flatMap((s) => {
            const v = stateEntries(ex, "gcp:secretmanager/secretVersion:SecretVersion").find((x) => x.name === `${s.name}-v`);
            if (!v) return [];
            const data = String(v.inputs.secretData);
            return [[String(s.outputs.name), v.inputs.isSecretDataBase64 ? Buffer.from(data, "base64") : Buffer.from(data)]];
        }),
    );
}

export interface ZoneFailure {
    /** `stockout`: the insert's operation ends with ZONE_RESOURCE_POOL_EXHAUSTED; `quota`: the insert is refused with 403 quotaExceeded. */
    kind: "stockout" | "quota";
}

export interface Instance {
    name: string;
    zone: string;
    template: string;
    /** RFC 3339, as Compute Engine writes it. */
    creationTimestamp: string;
    status: "PROVISIONING" | "RUNNING" | "STOPPING";
    host?: TestHost;
    token: string;
}

export interface ApiRequest {
    at: number;
    method: string;
    path: string;
    status: number;
    /** Whether the request carried an Authorization header (the testbed backend sends none). */
    authorization: boolean;
}

interface Operation {
    name: string;
    zone: string;
    kind: "insert" | "delete";
    target: string;
    done: Promise<void>;
    status: "RUNNING" | "DONE";
    error?: { errors: { code: string; message: string }[] };
}

export interface ComputeApiOptions {
    tb: Testbed;
    project: string;
    /** Instance templates by self link: their metadata (what the stack's InstanceTemplate was given). */
    templates: () => Record<string, Record<string, string>>;
    /** Secret Manager: secret name (`projects/N/secrets/ID`) -> payload bytes. */
    secrets: () => Record<string, Buffer>;
    /** Metadata values that differ on test hosts (say why where this is called). */
    metadataOverrides?: Record<string, string>;
    /** Device nodes every instance gets at boot (fake GPUs). */
    fakeGpuFiles?: string[];
    /** /dev/net/tun in every instance (the tunnel gateway's userspace WireGuard). */
    tun?: boolean;
    /** Called once an instance's host has started, before it counts as RUNNING (the VPC's addresses and routes). */
    onBoot?: (i: Instance) => Promise<void>;
    log?: (m: string) => void;
}

const STARTUP_UNIT = `[Unit]
Description=Testbed stand-in for Google's guest agent: run the instance's startup-script from the metadata server
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'curl -fsS --retry 10 --retry-connrefused -H "Metadata-Flavor: Google" -o /run/testbed-startup-script http://metadata.google.internal/computeMetadata/v1/instance/attributes/startup-script && exec /bin/bash /run/testbed-startup-script'
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;

function gceError(code: number, reason: string, message: string): Record<string, unknown> {
    return { error: { code, message, errors: [{ message, domain: "global", reason }] } };
}

export class ComputeApi {
    readonly instances = new Map<string, Instance>();
    readonly requests: ApiRequest[] = [];
    /** Zones told to fail, and how. */
    readonly failures = new Map<string, ZoneFailure>();
    /** Every insert and delete that reached a host (name, zone, op, time). */
    readonly events: { at: number; op: "insert" | "delete" | "insert-failed"; name: string; zone: string; detail?: string }[] = [];
    /** Called as an instance is deleted (before its host stops). */
    onDelete?: (i: Instance) => void;
    private readonly ops = new Map<string, Operation>();
    private readonly servers: (http.Server | https.Server)[] = [];
    private readonly pending = new Set<Promise<unknown>>();
    private caDir = "";
    private caPem = "";

    constructor(private readonly o: ComputeApiOptions) {}

    private log(m: string): void {
        this.o.log?.(m);
    }

    async start(): Promise<void> {
        this.caDir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-testbed-ca-"));
        const ssl = (args: string[]) => {
            const r = spawnSync("openssl", args, { cwd: this.caDir, encoding: "utf8" });
            if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
        };
        ssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=aihpc testbed stand-in CA"]);
        ssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "sm.key", "-out", "sm.csr", "-subj", "/CN=secretmanager.googleapis.com"]);
        fs.writeFileSync(path.join(this.caDir, "san.ext"), "subjectAltName=DNS:secretmanager.googleapis.com\nextendedKeyUsage=serverAuth\n");
        ssl(["x509", "-req", "-in", "sm.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "sm.crt", "-days", "1", "-extfile", "san.ext"]);
        this.caPem = fs.readFileSync(path.join(this.caDir, "ca.crt"), "utf8");
        const listen = (s: http.Server | https.Server, port: number) =>
            new Promise<void>((resolve, reject) => {
                s.once("error", reject);
                s.listen(port, BRIDGE_ADDRESS, () => resolve());
                this.servers.push(s);
            });
        await listen(http.createServer((q, r) => this.handle(q, r, () => this.compute(q, r))), COMPUTE_PORT);
        await listen(http.createServer((q, r) => this.handle(q, r, () => this.metadata(q, r))), 80);
        const key = fs.readFileSync(path.join(this.caDir, "sm.key"));
        const cert = fs.readFileSync(path.join(this.caDir, "sm.crt"));
        await listen(https.createServer({ key, cert }, (q, r) => this.handle(q, r, () => this.secretManager(q, r))), 443);
    }

    /** Stops the servers and every instance's host. */
    async stop(): Promise<void> {
        await Promise.allSettled([...this.pending]);
        // Keep-alive connections (curl, the hosts) would keep the servers, and so jest, alive.
        for (const s of this.servers) {
            s.close();
            s.closeAllConnections();
        }
        for (const i of [...this.instances.values()]) await this.removeHost(i);
        this.instances.clear();
        if (this.caDir) fs.rmSync(this.caDir, { recursive: true, force: true });
    }

    /** An instance Slurm never asked for (a VM left by a crash), `ageSeconds` old. No startup script runs on it. */
    async bootOrphan(name: string, zone: string, ageSeconds: number): Promise<Instance> {
        const template = Object.keys(this.o.templates())[0];
        const i = this.newInstance(name, zone, template, Date.now() - ageSeconds * 1000);
        await this.boot(i, false);
        return i;
    }

    /** The templates the stand-in knows (the stack's), by self link. */
    templates(): Record<string, Record<string, string>> {
        return this.o.templates();
    }

    /** Instances whose host runs, by name. */
    running(): string[] {
        return [...this.instances.values()].filter((i) => i.host).map((i) => i.name);
    }

    private track<T>(p: Promise<T>): Promise<T> {
        this.pending.add(p);
        p.finally(() => this.pending.delete(p)).catch(() => undefined);
        return p;
    }

    private handle(q: http.IncomingMessage, r: http.ServerResponse, f: () => Promise<[number, unknown]>): void {
        const chunks: Buffer[] = [];
        q.on("data", (c: Buffer) => chunks.push(c));
        q.on("end", () => {
            (q as http.IncomingMessage & { body?: string }).body = Buffer.concat(chunks).toString("utf8");
            f()
                .catch((e: Error): [number, unknown] => [500, gceError(500, "backendError", `stand-in: ${e.message}`)])
                .then(([status, body]) => {
                    this.requests.push({ at: Date.now(), method: q.method ?? "", path: q.url ?? "", status, authorization: q.headers.authorization !== undefined });
                    r.writeHead(status, { "Content-Type": typeof body === "string" ? "text/plain" : "application/json" });
                    r.end(typeof body === "string" ? body : JSON.stringify(body));
                });
        });
    }

    private newInstance(name: string, zone: string, template: string, created = Date.now()): Instance {
        const i: Instance = {
            name,
            zone,
            template,
            creationTimestamp: new Date(created).toISOString().replace("Z", "+00:00"),
            status: "PROVISIONING",
            token: `ya29.testbed-${randomBytes(16).toString("hex")}`,
        };
        this.instances.set(name, i);
        return i;
    }

    private async boot(i: Instance, startupScript: boolean): Promise<void> {
        // Provisioning takes a while in Compute Engine too: the host's clock must start after slurmctld's resume
        // request (it compares whole seconds, and keeps a node whose boot time is not later "waiting for boot").
        await new Promise((r) => setTimeout(r, 2500));
        const extraHosts = [`${BRIDGE_ADDRESS}\tmetadata.google.internal`, `${BRIDGE_ADDRESS}\tsecretmanager.googleapis.com`];
        i.host = await this.o.tb.addHost({
            name: i.name,
            fakeGpuFiles: this.o.fakeGpuFiles,
            etcHosts: extraHosts,
            // A new instance has just booted (slurmctld compares its boot time with the resume request).
            ownBootTime: true,
            tun: this.o.tun,
            prepare: (root) => {
                // The stand-in Secret Manager's CA, trusted like a public one: in the bundle curl reads, and where
                // update-ca-certificates (should a package run it) takes local CAs from.
                fs.appendFileSync(path.join(root, "etc/ssl/certs/ca-certificates.crt"), this.caPem);
                writeFile(root, "usr/local/share/ca-certificates/aihpc-testbed-stand-in.crt", this.caPem);
                if (startupScript) {
                    writeFile(root, "etc/systemd/system/testbed-startup-script.service", STARTUP_UNIT);
                    const wants = path.join(root, "etc/systemd/system/multi-user.target.wants");
                    fs.mkdirSync(wants, { recursive: true });
                    fs.symlinkSync("/etc/systemd/system/testbed-startup-script.service", path.join(wants, "testbed-startup-script.service"));
                }
            },
        });
        await this.o.onBoot?.(i);
        if (i.status === "STOPPING") {
            // Deleted while it was provisioning (the delete found no host yet): the host it booted goes now.
            await this.removeHost(i);
            return;
        }
        i.status = "RUNNING";
        this.log(`instance ${i.name} (${i.zone}) booting as ${i.host.address}`);
    }

    private async removeHost(i: Instance): Promise<void> {
        if (!i.host) return;
        const name = i.host.name;
        i.host = undefined;
        await this.o.tb.removeHost(name);
        this.log(`instance ${i.name} (${i.zone}) deleted, its host is gone`);
    }

    private op(zone: string, kind: Operation["kind"], target: string, work: Promise<Operation["error"] | undefined>): Operation {
        const o: Operation = { name: `operation-${Date.now()}-${randomBytes(4).toString("hex")}`, zone, kind, target, status: "RUNNING", done: Promise.resolve() };
        o.done = this.track(
            work.then(
                (error) => {
                    o.status = "DONE";
                    if (error) o.error = error;
                },
                (e: Error) => {
                    o.status = "DONE";
                    o.error = { errors: [{ code: "INTERNAL_ERROR", message: `stand-in: ${e.message}` }] };
                },
            ),
        );
        this.ops.set(o.name, o);
        return o;
    }

    private opJson(o: Operation): Record<string, unknown> {
        const zoneUrl = `${COMPUTE_API_URL}/projects/${this.o.project}/zones/${o.zone}`;
        return {
            kind: "compute#operation",
            name: o.name,
            zone: zoneUrl,
            operationType: o.kind,
            targetLink: `${zoneUrl}/instances/${o.target}`,
            status: o.status,
            ...(o.error ? { error: o.error } : {}),
        };
    }

    private async compute(q: http.IncomingMessage, r: http.ServerResponse): Promise<[number, unknown]> {
        void r;
        const url = new URL(q.url ?? "/", COMPUTE_API_URL);
        const m = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([a-z0-9-]+)\/(instances|operations)(?:\/([^/]+))?(\/wait)?$/.exec(url.pathname);
        if (!m) return [404, gceError(404, "notFound", `stand-in: no such path ${url.pathname}`)];
        const [, project, zone, kind, id, wait] = m;
        if (project !== this.o.project) return [403, gceError(403, "forbidden", `Required 'compute.instances.list' permission for 'projects/${project}'`)];
        const body = (q as http.IncomingMessage & { body?: string }).body ?? "";
        if (kind === "operations") {
            const o = id ? this.ops.get(id) : undefined;
            if (!o || o.zone !== zone) return [404, gceError(404, "notFound", `The resource 'projects/${project}/zones/${zone}/operations/${id}' was not found`)];
            // operations.wait returns when done, or after about two minutes with the operation as it is.
            if (wait && q.method === "POST") await Promise.race([o.done, new Promise((res) => setTimeout(res, 110_000))]);
            return [200, this.opJson(o)];
        }
        if (q.method === "GET" && !id) {
            const filter = url.searchParams.get("filter") ?? "";
            const f = /^name eq "(.*)"$/.exec(filter);
            if (filter && !f) return [400, gceError(400, "invalid", `stand-in: unsupported filter ${filter}`)];
            const re = f ? new RegExp(`^(?:${f[1]})$`) : undefined;
            const items = [...this.instances.values()]
                .filter((i) => i.zone === zone && (!re || re.test(i.name)))
                .map((i) => ({
                    kind: "compute#instance",
                    name: i.name,
                    zone: `${COMPUTE_API_URL}/projects/${project}/zones/${zone}`,
                    status: i.status,
                    creationTimestamp: i.creationTimestamp,
                    sourceInstanceTemplate: i.template,
                    networkInterfaces: i.host ? [{ networkIP: i.host.address }] : [],
                }));
            return [200, { kind: "compute#instanceList", ...(items.length ? { items } : {}) }];
        }
        if (q.method === "POST" && !id) {
            const template = url.searchParams.get("sourceInstanceTemplate") ?? "";
            const templates = this.o.templates();
            if (!templates[template]) return [404, gceError(404, "notFound", `The resource '${template}' was not found`)];
            let name = "";
            try {
                name = String((JSON.parse(body) as { name?: string }).name ?? "");
            } catch {
                return [400, gceError(400, "parseError", "stand-in: the body is not JSON")];
            }
            if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) return [400, gceError(400, "invalid", `Invalid value for field 'resource.name': '${name}'`)];
            const existing = this.instances.get(name);
            if (existing && existing.zone === zone) return [409, gceError(409, "alreadyExists", `The resource 'projects/${project}/zones/${zone}/instances/${name}' already exists`)];
            const fail = this.failures.get(zone);
            if (fail?.kind === "quota") {
                const message = `Quota 'NVIDIA_T4_GPUS' exceeded.  Limit: 0.0 in region ${zone.replace(/-[a-z]$/, "")}.`;
                this.events.push({ at: Date.now(), op: "insert-failed", name, zone, detail: "quotaExceeded" });
                return [403, gceError(403, "quotaExceeded", message)];
            }
            if (fail?.kind === "stockout") {
                this.events.push({ at: Date.now(), op: "insert-failed", name, zone, detail: "ZONE_RESOURCE_POOL_EXHAUSTED" });
                const o = this.op(
                    zone,
                    "insert",
                    name,
                    new Promise((res) =>
                        setTimeout(
                            () =>
                                res({
                                    errors: [
                                        {
                                            code: "ZONE_RESOURCE_POOL_EXHAUSTED",
                                            message: `The zone 'projects/${project}/zones/${zone}' does not have enough resources available to fulfill the request.  Try a different zone, or try again later.`,
                                        },
                                    ],
                                }),
                            500,
                        ),
                    ),
                );
                return [200, this.opJson(o)];
            }
            if (existing) return [409, gceError(409, "alreadyExists", `stand-in: ${name} exists in ${existing.zone}`)];
            const i = this.newInstance(name, zone, template);
            this.events.push({ at: Date.now(), op: "insert", name, zone });
            const o = this.op(zone, "insert", name, this.boot(i, true).then(() => undefined));
            return [200, this.opJson(o)];
        }
        if (q.method === "DELETE" && id) {
            const i = this.instances.get(id);
            if (!i || i.zone !== zone) return [404, gceError(404, "notFound", `The resource 'projects/${project}/zones/${zone}/instances/${id}' was not found`)];
            this.events.push({ at: Date.now(), op: "delete", name: id, zone });
            this.onDelete?.(i);
            i.status = "STOPPING";
            const o = this.op(
                zone,
                "delete",
                id,
                this.removeHost(i).then(() => {
                    this.instances.delete(id);
                    return undefined;
                }),
            );
            return [200, this.opJson(o)];
        }
        return [405, gceError(405, "methodNotAllowed", `stand-in: ${q.method} ${url.pathname}`)];
    }

    private instanceAt(addr: string | undefined): Instance | undefined {
        const a = (addr ?? "").replace(/^::ffff:/, "");
        return [...this.instances.values()].find((i) => i.host?.address === a);
    }

    private async metadata(q: http.IncomingMessage, r: http.ServerResponse): Promise<[number, unknown]> {
        void r;
        if (q.headers["metadata-flavor"] !== "Google") return [403, "Missing Metadata-Flavor:Google header."];
        const i = this.instanceAt(q.socket.remoteAddress);
        if (!i) return [404, "stand-in: not an instance"];
        const p = new URL(q.url ?? "/", "http://metadata.google.internal").pathname;
        const attr = /^\/computeMetadata\/v1\/instance\/attributes\/([^/]+)$/.exec(p);
        if (attr) {
            const md = { ...(this.o.templates()[i.template] ?? {}), ...(this.o.metadataOverrides ?? {}) };
            const v = md[attr[1]];
            return v === undefined ? [404, "not found"] : [200, v];
        }
        if (p === "/computeMetadata/v1/instance/service-accounts/default/token") {
            return [200, { access_token: i.token, expires_in: 3599, token_type: "Bearer" }];
        }
        if (p === "/computeMetadata/v1/instance/name") return [200, i.name];
        return [404, "not found"];
    }

    private async secretManager(q: http.IncomingMessage, r: http.ServerResponse): Promise<[number, unknown]> {
        void r;
        const auth = /^Bearer (\S+)$/.exec(q.headers.authorization ?? "");
        const caller = auth && [...this.instances.values()].find((i) => i.host && i.token === auth[1]);
        if (!caller) return [401, gceError(401, "unauthorized", "Request had invalid authentication credentials.")];
        const m = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/latest:access$/.exec(new URL(q.url ?? "/", "https://secretmanager.googleapis.com").pathname);
        if (!m || q.method !== "GET") return [404, gceError(404, "notFound", "stand-in: no such secret path")];
        const data = this.o.secrets()[m[1]];
        if (!data) return [404, gceError(404, "notFound", `Secret [${m[1]}] not found or has no versions.`)];
        this.log(`secret ${m[1]} read by ${caller.name}`);
        return [200, { name: `${m[1]}/versions/1`, payload: { data: data.toString("base64") } }];
    }
}
