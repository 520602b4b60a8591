// An ssh-agent of the testbed's own (workstation.sshAuth 'agent'): the
// ssh-agent test and the state-size benchmark log in with it.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface SshAgent {
    socket: string;
    stop(): void;
}

/** ssh-agent in the foreground on `dir/name.sock`, holding the keys of `keyFiles`. */
export async function startSshAgent(dir: string, name: string, keyFiles: string[]): Promise<SshAgent> {
    const socket = path.join(dir, `${name}.sock`);
    const proc: ChildProcess = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    const stop = () => {
        proc.kill();
        fs.rmSync(socket, { force: true });
    };
    for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    try {
        if (!fs.existsSync(socket)) throw new Error(`ssh-agent did not open ${socket}`);
        for (const k of keyFiles) {
            const r = spawnSync("ssh-add", [k], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: "utf8" });
            if (r.status !== 0) throw new Error(`ssh-add ${k}: ${r.stderr}`);
        }
    } catch (e) {
        stop();
        throw e;
    }
    return { socket, stop };
}
