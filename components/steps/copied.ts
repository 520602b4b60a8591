// Files rendered once for the whole stack and needed on many hosts: slurm.conf
// names every node. On each host's stdin such a file would sit in every host's
// state, so the state per host would grow with the cluster (issue 17). Instead
// its text is written once here, named by its sha256, copied to each host
// (`CopyToRemote`: the state keeps the local path and the file's hash, not its
// text), and the step's payload names it by path and hash (`-copied VAR=PATH@SHA256`,
// lib.sh `aihpc_inputs`), which checks the hash and keeps the file under
// /var/lib/aihpc/copied, so a later run of the step finds it after the copy is gone.
import { createHash } from "crypto";
import * as fs from "fs";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { writeLocal } from "./bundle";
import { Transport } from "./host-step";
import { join } from "./join";
import { track } from "./turns";

/** Where a step keeps the stack files it checked, by hash (lib.sh AIHPC_COPIED_DIR); the bundle's teardown removes them. */
export const COPIED_FILES_DIR = "/var/lib/aihpc/copied";

/** A stack file in this checkout: its text's sha256 and where it was written. */
export interface StackFile {
    sha256: string;
    file: string;
}

/** Where a host finds a stack file, and its hash: a payload's `-copied VAR=PATH@SHA256` line. */
export interface CopiedFile {
    path: string;
    sha256: string;
}

const written = new Map<string, string>();

/** Write TEXT once as `.aihpc/NAME-<sha16>` (the stack's own copy, which the hosts get). */
export function stackFile(name: string, text: string): StackFile {
    if (!/^[a-z0-9.-]+$/.test(name)) throw new Error(`stack file name '${name}' must be [a-z0-9.-] only`);
    const data = Buffer.from(text);
    const sha256 = createHash("sha256").update(data).digest("hex");
    const file = writeLocal(`${name}-${sha256.slice(0, 16)}`, data);
    written.set(sha256, file);
    return { sha256, file };
}

/** The local copy of a stack file this program wrote, by its sha256 (tests read what a host would get). */
export function stackFileText(sha256: string): string | undefined {
    const file = written.get(sha256);
    return file === undefined ? undefined : fs.readFileSync(file, "utf8");
}

/**
 * A stack file through `join` (join.ts): the hosts' copies depend on the one `name`
 * resource, which holds its sha256, not on every resource its text came from.
 */
export function joinedStackFile(name: string, key: string, file: pulumi.Output<StackFile>, opts: pulumi.CustomResourceOptions): pulumi.Output<StackFile> {
    return join(name, key, file.apply((f) => f.sha256), opts).value.apply((sha256) => {
        const local = written.get(sha256);
        if (local === undefined) throw new Error(`${name}: this program wrote no stack file with sha256 ${sha256}`);
        return { sha256, file: local };
    });
}

/**
 * A stack file on one host: over SSH a copy into /var/tmp (as the connection's
 * user; the step checks its hash and keeps it as root); on the local machine
 * the stack's own file. `after` is what a step that reads it waits for.
 */
export function copyToHost(
    name: string,
    transport: Transport,
    f: pulumi.Output<StackFile>,
    opts: pulumi.CustomResourceOptions,
): { copied: pulumi.Output<CopiedFile>; after: pulumi.Resource[] } {
    if (transport.kind === "local") return { copied: f.apply((x) => ({ path: x.file, sha256: x.sha256 })), after: [] };
    const remotePath = f.apply((x) => `/var/tmp/aihpc-file-${x.sha256.slice(0, 16)}`);
    const copy = track(
        new command.remote.CopyToRemote(name, { connection: transport.connection, source: f.apply((x) => new pulumi.asset.FileAsset(x.file)), remotePath }, opts),
    );
    return { copied: pulumi.all([f, remotePath]).apply(([x, p]) => ({ path: p, sha256: x.sha256 })), after: [copy] };
}
