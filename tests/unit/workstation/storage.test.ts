import { AccountIds, checkFacts, parseFacts } from "../../../components/workstation/host";
import { automountUnit, exportsFile, hostUnits, mountUnit, unitName } from "../../../components/workstation/storage";
import { parseFileSet } from "../../../components/steps";
import { twoHosts } from "../../helpers/fixtures";
import { parseConfig, problemAt, runProgram } from "../../helpers/harness";
import { stepReceived } from "../../helpers/steps";
import { recordedFacts } from "./facts";

const STEP = "command:remote:Command";

/** Two hosts, ws1 serving, the research users and group with fixed ids; the GPU stack off for a small graph. */
function withNfs(nfs: Record<string, unknown> = {}): Record<string, any> {
    const raw = twoHosts();
    raw.workstation.base = { researchGroupGid: 2000, users: [{ name: "alice", uid: 2001 }, { name: "bob", uid: 2002 }] };
    raw.workstation.nvidia = { enabled: false };
    raw.workstation.storage = { nfs: { enabled: true, server: "ws1", ...nfs } };
    return raw;
}

describe("storage.nfs config", () => {
    test("off by default: no storage resources", async () => {
        const raw = twoHosts();
        raw.workstation.nvidia = { enabled: false };
        const run = await runProgram(raw);
        expect(run.resources.filter((r) => /storage/.test(r.name))).toEqual([]);
    });

    test("needs a server among the hosts, fixed ids, and shares that do not collide", () => {
        const noServer = withNfs();
        delete noServer.workstation.storage.nfs.server;
        expect(problemAt(noServer, undefined, "aihpc:workstation.storage.nfs.server").message).toMatch(/required with storage\.nfs\.enabled: the name of the host .* one of ws1, ws2/);
        expect(problemAt(withNfs({ server: "ws9" }), undefined, "aihpc:workstation.storage.nfs.server").message).toBe("'ws9' is not a host: expected one of ws1, ws2");
        const noIds = withNfs();
        noIds.workstation.base = { users: [{ name: "alice" }] };
        expect(problemAt(noIds, undefined, "aihpc:workstation.base.researchGroupGid").message).toMatch(/required with storage\.nfs: the gid of group 'research'/);
        expect(problemAt(noIds, undefined, "aihpc:workstation.base.users[0].uid").message).toMatch(/required with storage\.nfs: user alice's uid/);
        const twice = withNfs();
        twice.workstation.base.users[1].uid = 2001;
        expect(problemAt(twice, undefined, "aihpc:workstation.base.users[1].uid").message).toBe("uid 2001 is also alice's: expected one uid per user");
        const shares = withNfs({
            exports: [
                { name: "data", path: "/srv/nfs/data", mountPoint: "/data" },
                { name: "data", path: "/srv/nfs/more", mountPoint: "/data/more" },
                { name: "odd", path: "/srv/nfs/odd", mountPoint: "/shared-data" },
            ],
        });
        expect(problemAt(shares, undefined, "aihpc:workstation.storage.nfs.exports[1].name").message).toBe("'data' is also exports[0].name: expected one per share");
        expect(problemAt(shares, undefined, "aihpc:workstation.storage.nfs.exports[1].mountPoint").message).toMatch(/inside exports\[0\]'s mount point '\/data'/);
        expect(problemAt(shares, undefined, "aihpc:workstation.storage.nfs.exports[2].mountPoint").message).toMatch(/holds '-' or '\.'/);
        expect(problemAt(withNfs({ exports: [{ name: "etc", path: "/etc", mountPoint: "/x" }] }), undefined, "aihpc:workstation.storage.nfs.exports[0].path").message).toMatch(/system folder \/etc/);
        expect(problemAt(withNfs({ exports: [{ name: "o", path: "/srv/o", mountPoint: "/o", options: "rw;reboot" }] }), undefined, "aihpc:workstation.storage.nfs.exports[0].options").message).toMatch(/exports\(5\) options/);
        const one = withNfs();
        one.workstation.hosts = one.workstation.hosts.slice(0, 1);
        expect(problemAt(one, undefined, "aihpc:workstation.storage.nfs.enabled").message).toMatch(/at least two hosts/);
    });
});

describe("storage.nfs files", () => {
    const nfs = parseConfig(withNfs()).workstation.storage.nfs;

    test("exports each share to each client only, with its options", () => {
        expect(exportsFile(nfs, ["10.0.0.12"]).split("\n").slice(1)).toEqual([
            "/srv/nfs/datasets 10.0.0.12(rw,sync,no_subtree_check,root_squash)",
            "/srv/nfs/scratch 10.0.0.12(rw,async,no_subtree_check,root_squash)",
        ]);
    });

    test("clients get NFS automounts; the server bind mounts; unit names are systemd's", () => {
        expect(unitName("/datasets", "mount")).toBe("datasets.mount");
        expect(unitName("/shared/home", "automount")).toBe("shared-home.automount");
        const client = hostUnits(nfs, "10.0.0.11");
        expect(Object.keys(client).sort()).toEqual(["datasets.automount", "datasets.mount", "scratch.automount", "scratch.mount"]);
        expect(client["datasets.mount"]).toContain("What=10.0.0.11:/srv/nfs/datasets\nWhere=/datasets\nType=nfs\nOptions=rw,hard,noatime,nfsvers=4.2");
        expect(client["datasets.mount"]).toContain("After=network-online.target");
        expect(client["datasets.automount"]).toBe(automountUnit(nfs.exports[0], 600));
        expect(client["datasets.automount"]).toContain("[Automount]\nWhere=/datasets\nTimeoutIdleSec=600\n\n[Install]\nWantedBy=remote-fs.target");
        expect(mountUnit(nfs.exports[0], undefined)).toContain("What=/srv/nfs/datasets\nWhere=/datasets\nType=none\nOptions=bind");
        // A share whose mount point is its folder needs nothing on the server.
        expect(hostUnits({ ...nfs, exports: [{ ...nfs.exports[0], mountPoint: nfs.exports[0].path }] }, undefined)).toEqual({});
    });
});

describe("storage.nfs in the graph", () => {
    test("the server exports to the other hosts; every host mounts after it; ids reach the users step", async () => {
        const run = await runProgram(withNfs());
        const server = stepReceived(run.inputsOf("ws-storage-ws1-nfs-server"));
        expect(server.vars.SHARES).toBe("/srv/nfs/datasets:2775 /srv/nfs/scratch:3775");
        expect(server.vars.GROUP).toBe("research");
        expect(server.vars.EXPORTS).toContain("/srv/nfs/datasets 10.0.0.12(");
        expect(server.vars.EXPORTS).not.toContain("10.0.0.11(");
        // Teardown needs the folders to remove them once empty.
        expect(stepReceived(run.inputsOf("ws-storage-ws1-nfs-server"), "delete").vars.SHARES).toBe(server.vars.SHARES);
        const client = stepReceived(run.inputsOf("ws-storage-ws2-nfs-mounts"));
        expect(client.vars.NFS_CLIENT).toBe("1");
        expect(parseFileSet(client.vars.UNITS)["scratch.mount"]).toContain("What=10.0.0.11:/srv/nfs/scratch");
        const own = stepReceived(run.inputsOf("ws-storage-ws1-nfs-mounts"));
        expect(own.vars.NFS_CLIENT).toBe("0");
        expect(parseFileSet(own.vars.UNITS)["scratch.mount"]).toContain("Options=bind");
        for (const h of ["ws1", "ws2"]) {
            const deps = run.named(`ws-storage-${h}-nfs-mounts`).dependencies;
            expect(deps).toEqual(expect.arrayContaining([run.named("ws-storage-ws1-nfs-server").urn, run.named(`ws-${h}-base-users`).urn]));
        }
        expect(stepReceived(run.inputsOf("ws-ws1-base-users")).vars.GROUP_GID).toBe("2000");
        expect(run.ofType(STEP).filter((r) => r.name.startsWith("ws-storage-")).map((r) => r.name).sort()).toEqual([
            "ws-storage-ws1-nfs-mounts",
            "ws-storage-ws1-nfs-server",
            "ws-storage-ws1-retain",
            "ws-storage-ws2-nfs-mounts",
            "ws-storage-ws2-retain",
        ]);
    });

    test("without a gid the users step gets no GROUP_GID: stacks without storage keep their commands", async () => {
        const raw = twoHosts();
        raw.workstation.nvidia = { enabled: false };
        const run = await runProgram(raw);
        expect(stepReceived(run.inputsOf("ws-ws1-base-users")).vars.GROUP_GID).toBeUndefined();
    });
});

describe("preflight refuses ids taken on a host", () => {
    const facts = (extra: string) => parseFacts(`${recordedFacts("facts-debian12-2cpu.txt", "ws2")}${extra}`);
    const ids: AccountIds = { users: [{ name: "alice", uid: 2001 }], group: { name: "research", gid: 2000 } };

    test("free or already theirs: no problem", () => {
        expect(checkFacts("ws2", facts("account_user=admin:1000\naccount_group=admin:1000\n"), "ssh", ids)).toEqual([]);
        expect(checkFacts("ws2", facts("account_user=alice:2001\naccount_group=research:2000\n"), "ssh", ids)).toEqual([]);
    });

    test("a name with another id, or an id held by another name", () => {
        expect(checkFacts("ws2", facts("account_user=alice:1001\naccount_user=carol:2001\naccount_group=lab:2000\n"), "ssh", ids)).toEqual([
            "ws2: user alice exists with uid 1001, workstation.base.users (alice).uid says 2001: give it 2001 on this host (`usermod -u 2001 alice`) or change workstation.base.users (alice).uid",
            "ws2: uid 2001 (workstation.base.users (alice).uid) belongs to user carol here: pick a free id",
            "ws2: gid 2000 (workstation.base.researchGroupGid) belongs to group lab here: pick a free id",
        ]);
    });
});
