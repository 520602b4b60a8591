import * as pulumi from "@pulumi/pulumi";
import { NfsConfig } from "../../../config/workstation";
import { fileSet, retainStep, scriptStep, stepOptions } from "../../steps";
import { Host } from "../host";
import { Ready, readyOn } from "../ready";
import { exportsFile, hostUnits, PATHS } from "./files";

export * from "./files";

const SCRIPTS = `${__dirname}/scripts`;

export interface StorageArgs {
    hosts: Host[];
    /** Validated (storage/problems.ts): the server is one of `hosts`, ids are fixed. */
    config: NfsConfig;
    researchGroup: string;
    /** The base system in place on each host (teardown ordering). */
    baseReady?: Ready;
    /** The research users and group exist on each host (the shares belong to the group). */
    usersReady?: Ready;
}

/**
 * Shared storage over NFS: one host exports the shares (Debian's
 * nfs-kernel-server), every other host mounts them with systemd automounts,
 * and the server sees them at the same paths through bind mounts, so a job
 * finds its data at one path on every node.
 */
export class Storage extends pulumi.ComponentResource {
    public readonly server: pulumi.Resource;
    public readonly mounts: Record<string, pulumi.Resource>;
    /** The shares mountable at their mount points, by host. */
    public readonly storageReady: Ready;

    constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aihpc:workstation:Storage", name, {}, opts);
        const nfs = args.config;
        const server = args.hosts.find((h) => h.name === nfs.server)!;
        const clients = args.hosts.filter((h) => h !== server);
        const address = (h: Host) => h.config.address ?? h.name;
        const allowed = nfs.clients ?? clients.map(address);
        const shares = nfs.exports.map((e) => `${e.path}:${e.mode}`).join(" ");
        const retains: Record<string, pulumi.Resource> = {};
        const retain = (h: Host) =>
            (retains[h.name] ??= retainStep(`${name}-${h.name}-retain`, h.transport, "storage-nfs", nfs.retain, stepOptions(this, h, readyOn(h.name, args.baseReady))()));
        const after = (h: Host) => stepOptions(this, h, [...readyOn(h.name, args.baseReady), ...readyOn(h.name, args.usersReady), retain(h)]);
        this.server = scriptStep(
            `${name}-${server.name}-nfs-server`,
            server.transport,
            {
                dir: SCRIPTS,
                file: "nfs-server.sh",
                env: { GROUP: args.researchGroup, SHARES: shares, EXPORTS_FILE: PATHS.exports },
                files: { EXPORTS: exportsFile(nfs, allowed) },
                deleteEnv: { SHARES: shares, EXPORTS_FILE: PATHS.exports },
            },
            after(server)(),
        );
        this.mounts = {};
        for (const h of args.hosts) {
            const isServer = h === server;
            const units = hostUnits(nfs, isServer ? undefined : address(server));
            if (!Object.keys(units).length) continue;
            this.mounts[h.name] = scriptStep(
                `${name}-${h.name}-nfs-mounts`,
                h.transport,
                { dir: SCRIPTS, file: "nfs-mounts.sh", env: { NFS_CLIENT: isServer ? 0 : 1 }, files: { UNITS: fileSet(units, "storage units") } },
                // Clients after the server: their first mount finds it exporting.
                after(h)(this.server),
            );
        }
        this.storageReady = Object.fromEntries(args.hosts.map((h) => [h.name, this.mounts[h.name] ?? this.server]));
        this.registerOutputs({ server: server.name, clients: clients.map((h) => h.name), shares: nfs.exports.map((e) => e.mountPoint) });
    }
}
