// The node bootstrap's mapping of slurm.conf's controller address to the conf
// server's (the tunnel's): its `map_controller` function run by bash, with a
// stub `nft` that keeps what it was given and a hosts file of the test's. The
// NAT branch also ran on test hosts (tests/testbed/tunnel.test.ts); the name
// branch runs only here (the test hosts name the controller by address).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { NODE_BOOTSTRAP } from "../../../components/gcp/cloud-nodes";

function mapController(dir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const script = `source "$1"; shift; nft() { cat >>"$DIR/nft.in"; }; logger() { :; }; map_controller "$@"`;
    // --norc and no stdin: bash reads ~/.bashrc when its stdin is a socket (as a remote shell).
    const r = spawnSync("bash", ["--norc", "-c", script, "map", NODE_BOOTSTRAP, ...args], { env: { PATH: process.env.PATH, DIR: dir }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the node bootstrap maps slurm.conf's controller address to the tunnel's", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-node-bootstrap-"));
        fs.writeFileSync(path.join(dir, "hosts"), "127.0.0.1 localhost\n10.99.0.1 ws1.lab.example # aihpc-controller\n");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "");

    test("an address: one NAT table, declared, deleted and defined in one transaction (the same every boot)", () => {
        const r = mapController(dir, "192.168.1.10", "10.99.0.1", path.join(dir, "hosts"));
        expect([r.status, r.stderr]).toEqual([0, ""]);
        expect(r.stdout).toBe("aihpc-cloud-node: slurmctld's address in slurm.conf, 192.168.1.10, is reached at 10.99.0.1\n");
        expect(read("nft.in").split("\n")).toEqual([
            "table ip aihpc_controller",
            "delete table ip aihpc_controller",
            "table ip aihpc_controller {",
            "  chain output {",
            "    type nat hook output priority -100; policy accept;",
            "    ip daddr 192.168.1.10 dnat to 10.99.0.1",
            "  }",
            "}",
            "",
        ]);
        expect(read("hosts")).toBe("127.0.0.1 localhost\n10.99.0.1 ws1.lab.example # aihpc-controller\n");
    });

    test("a name: one hosts line of its own, replaced on every boot, the rest of the file kept", () => {
        for (let i = 0; i < 2; i++) expect(mapController(dir, "ctl.lab.example", "10.99.0.1", path.join(dir, "hosts")).status).toBe(0);
        expect(read("hosts")).toBe("127.0.0.1 localhost\n10.99.0.1 ctl.lab.example # aihpc-controller\n");
        expect(read("nft.in")).toBe("");
    });

    test("nothing to map: the conf server's own address, or no address in the metadata (an older template)", () => {
        for (const ctl of ["10.99.0.1", ""]) {
            const r = mapController(dir, ctl, "10.99.0.1", path.join(dir, "hosts"));
            expect([ctl, r.status, r.stdout]).toEqual([ctl, 0, ""]);
        }
        expect([read("nft.in"), read("hosts")]).toEqual(["", "127.0.0.1 localhost\n10.99.0.1 ws1.lab.example # aihpc-controller\n"]);
    });
});
