import * as fs from "fs";
import * as path from "path";
import { a3MachineTypes, acceleratorsFor, workbenchAccelerators } from "../../../config/gcp";
import { withGcp } from "../../helpers/fixtures";
import { configProblems, parseConfig } from "../../helpers/harness";

/** The config problems as `path: message` lines ([] when valid). */
function problems(mutate: (gcp: Record<string, any>) => void): string[] {
    const raw = withGcp();
    mutate(raw.gcp);
    return configProblems(raw);
}

describe("gcp config validation", () => {
    test("the fixture is valid and fills secure defaults", () => {
        const cfg = parseConfig(withGcp()).gcp!;
        expect(cfg.prefix).toBe("aihpc");
        expect(cfg.buckets.datasets.protect).toBe(true);
        expect(cfg.buckets.artifacts.protect).toBe(true);
        expect(cfg.vertex.workbench.enabled).toBe(false);
        expect(cfg.vertex.workbench.deletionProtection).toBe(true);
        expect(cfg.workstationIdentity.enabled).toBe(true);
        expect(cfg.allowUserMembers).toBe(false);
    });

    test.each([
        ["empty", ""],
        ["zero", "0"],
        ["leading zero", "0123"],
        ["a name", "aihpc"],
    ])("GitHub repository id %s is rejected", (_what, id) => {
        const p = problems((g) => (g.github.repositoryId = id));
        expect(p).toEqual([expect.stringMatching(/^aihpc:gcp\.github\.repositoryId: expected the numeric GitHub repository id, not empty or 0/)]);
    });

    test("GitHub owner id 0 is rejected, and an owner id equal to the repository id", () => {
        expect(problems((g) => (g.github.ownerId = "0"))).toEqual([expect.stringMatching(/^aihpc:gcp\.github\.ownerId: expected the numeric GitHub owner id/)]);
        expect(problems((g) => (g.github.ownerId = g.github.repositoryId))).toEqual([
            expect.stringMatching(/^aihpc:gcp\.github\.ownerId: the owner id equals the repository id \(111\).*gh api users\/example/),
        ]);
    });

    test("zone outside the region, and a region without zone -a", () => {
        expect(problems((g) => (g.zone = "us-central1-a"))).toEqual(["aihpc:gcp.zone: zone 'us-central1-a' is not in region 'europe-west4': expected one of europe-west4-a, europe-west4-b, europe-west4-c"]);
        expect(problems((g) => (g.region = "europe-west1"))).toEqual([
            "aihpc:gcp.zone: region 'europe-west1' has no zone 'europe-west1-a' (the default): set gcp.zone to one of europe-west1-b, europe-west1-c, europe-west1-d",
        ]);
        expect(problems((g) => ((g.region = "europe-west1"), (g.zone = "europe-west1-b")))).toEqual([]);
    });

    describe("Workbench machine type, accelerator and zone", () => {
        const wb = (w: Record<string, unknown>, zone?: string) =>
            problems((g) => {
                g.vertex = { workbench: { enabled: true, ...w } };
                if (zone) g.zone = zone;
            });

        test("valid combinations pass", () => {
            expect(wb({})).toEqual([]);
            expect(wb({ accelerator: { type: "NVIDIA_TESLA_T4", count: 1 } })).toEqual([]);
            expect(wb({ machineType: "g2-standard-8", accelerator: { type: "NVIDIA_L4", count: 1 } })).toEqual([]);
            expect(wb({ machineType: "a2-highgpu-2g", accelerator: { type: "NVIDIA_TESLA_A100", count: 2 } })).toEqual([]);
            expect(wb({ machineType: "a3-highgpu-8g", accelerator: { type: "NVIDIA_H100_80GB", count: 8 } }, "europe-west4-b")).toEqual([]);
        });

        test("a GPU the machine family cannot carry", () => {
            expect(wb({ accelerator: { type: "NVIDIA_L4", count: 1 } })).toEqual([
                "aihpc:gcp.vertex.workbench.accelerator.type: NVIDIA_L4 is not available on machine type 'n1-standard-8': expected NVIDIA_TESLA_T4 or NVIDIA_TESLA_V100 or NVIDIA_TESLA_P100",
            ]);
            expect(wb({ machineType: "e2-standard-8", accelerator: { type: "NVIDIA_TESLA_T4", count: 1 } })).toEqual([
                expect.stringMatching(/^aihpc:gcp\.vertex\.workbench\.accelerator\.type: machine type 'e2-standard-8' takes no GPU/),
            ]);
        });

        test("a count that does not match the machine type, and a built-in GPU left unset", () => {
            expect(wb({ machineType: "g2-standard-24", accelerator: { type: "NVIDIA_L4", count: 1 } })).toEqual([
                "aihpc:gcp.vertex.workbench.accelerator.count: machine type 'g2-standard-24' has 2 NVIDIA_L4, got count 1",
            ]);
            expect(wb({ accelerator: { type: "NVIDIA_TESLA_T4", count: 8 } })).toEqual(["aihpc:gcp.vertex.workbench.accelerator.count: N1 machines take at most 4 NVIDIA_TESLA_T4, got 8"]);
            expect(wb({ machineType: "a2-highgpu-1g" })).toEqual([
                "aihpc:gcp.vertex.workbench.accelerator: machine type 'a2-highgpu-1g' comes with NVIDIA_TESLA_A100 x1: set accelerator to match it",
            ]);
        });

        test("a GPU the zone does not offer, named with the zones that do", () => {
            expect(wb({ accelerator: { type: "NVIDIA_TESLA_P100", count: 1 } }, "europe-west4-b")).toEqual([
                "aihpc:gcp.zone: NVIDIA_TESLA_P100 is not offered in zone 'europe-west4-b': use gcp.zone europe-west4-a",
            ]);
            expect(wb({ machineType: "a3-highgpu-1g", accelerator: { type: "NVIDIA_H100_80GB", count: 1 } })).toEqual([
                "aihpc:gcp.region: NVIDIA_H100_80GB is not offered in zone 'europe-west4-a' (the default zone): use gcp.zone europe-west4-b or europe-west4-c",
            ]);
        });

        // One case per A3 family (Compute Engine "GPU machine types"; the provider's accelerator names).
        test.each([
            ["A3 High", "a3-highgpu-1g", "NVIDIA_H100_80GB", 1],
            ["A3 High", "a3-highgpu-2g", "NVIDIA_H100_80GB", 2],
            ["A3 High", "a3-highgpu-4g", "NVIDIA_H100_80GB", 4],
            ["A3 High", "a3-highgpu-8g", "NVIDIA_H100_80GB", 8],
            ["A3 Edge", "a3-edgegpu-8g", "NVIDIA_H100_80GB", 8],
            ["A3 Mega", "a3-megagpu-8g", "NVIDIA_H100_MEGA_80GB", 8],
            ["A3 Ultra", "a3-ultragpu-8g", "NVIDIA_H200_141GB", 8],
        ])("%s: %s carries %s x%d, and nothing else", (_family, machineType, type, count) => {
            expect(acceleratorsFor(machineType)).toEqual({ types: [type], counts: [count], builtIn: true });
            expect(wb({ machineType, accelerator: { type, count } }, "europe-west4-b")).toEqual([]);
            const other = type === "NVIDIA_H100_80GB" ? "NVIDIA_H200_141GB" : "NVIDIA_H100_80GB";
            expect(wb({ machineType, accelerator: { type: other, count } }, "europe-west4-b")).toEqual([
                `aihpc:gcp.vertex.workbench.accelerator.type: ${other} is not available on machine type '${machineType}': expected ${type}`,
            ]);
            expect(wb({ machineType }, "europe-west4-b")).toEqual([`aihpc:gcp.vertex.workbench.accelerator: machine type '${machineType}' comes with ${type} x${count}: set accelerator to match it`]);
        });

        test("an A3 type the table does not know takes no GPU (named with the ones it knows)", () => {
            expect(acceleratorsFor("a3-highgpu-3g")).toEqual({ types: [], counts: [], builtIn: false });
            expect(wb({ machineType: "a3-megagpu-4g", accelerator: { type: "NVIDIA_H100_MEGA_80GB", count: 4 } })).toEqual([
                expect.stringMatching(/machine type 'a3-megagpu-4g' takes no GPU: use .*a3-megagpu-8g \(H100 Mega\) or a3-ultragpu-8g \(H200\)$/),
            ]);
        });

        test("a zone outside the table's regions is not checked", () => {
            expect(
                problems((g) => {
                    g.region = "asia-east1";
                    g.vertex = { workbench: { enabled: true, accelerator: { type: "NVIDIA_TESLA_T4", count: 1 } } };
                }),
            ).toEqual([]);
        });

        test("Workbench without the network", () => {
            expect(problems((g) => ((g.vertex = { workbench: { enabled: true } }), (g.network = { enabled: false })))).toEqual([
                expect.stringMatching(/^aihpc:gcp\.network\.enabled: the Workbench instance has no public IP/),
            ]);
        });

        test("acceleratorsFor knows the built-in GPU of each accelerator-optimized type", () => {
            expect(acceleratorsFor("a2-ultragpu-4g")).toEqual({ types: ["NVIDIA_A100_80GB"], counts: [4], builtIn: true });
            expect(acceleratorsFor("g2-standard-96")).toEqual({ types: ["NVIDIA_L4"], counts: [8], builtIn: true });
            expect(acceleratorsFor("n2-standard-8").types).toEqual([]);
        });
    });

    test("other combinations: duplicate thresholds, a secret read by a missing identity, a cache without a registry", () => {
        expect(problems((g) => (g.budget.thresholds = [0.5, 0.5]))).toEqual(["aihpc:gcp.budget.thresholds: threshold 0.5 is listed twice"]);
        expect(problems((g) => (g.secrets = { "hf-token": { accessors: ["workbench"] } }))).toEqual([
            "aihpc:gcp.secrets.hf-token.accessors: 'workbench' has no service account while gcp.vertex.workbench.enabled is off",
        ]);
        expect(problems((g) => (g.artifactRegistry = { enabled: false, remoteCache: true }))).toEqual([
            expect.stringMatching(/^aihpc:gcp\.artifactRegistry\.remoteCache: the Docker Hub cache is part of the Artifact Registry component/),
        ]);
        expect(problems((g) => (g.secrets = { HF: {} }))).toEqual([expect.stringMatching(/^aihpc:gcp\.secrets\.HF: /)]);
    });
});

describe("accelerator names the provider takes", () => {
    // The installed @pulumi/gcp's own list for workbench.Instance gceSetup.acceleratorConfigs[].type.
    const dts = fs.readFileSync(path.join(require.resolve("@pulumi/gcp/package.json"), "..", "types", "input.d.ts"), "utf8");
    const block = /interface InstanceGceSetupAcceleratorConfig \{[\s\S]*?Possible values are: ([^\n]*)/.exec(dts);
    const accepted = new Set([...(block?.[1] ?? "").matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]));

    test("every accelerator the config offers (and every A3 type's) is one @pulumi/gcp documents for Workbench", () => {
        expect(accepted.size).toBeGreaterThan(5);
        expect(workbenchAccelerators.filter((a) => !accepted.has(a))).toEqual([]);
        expect(Object.values(a3MachineTypes).filter((a) => !accepted.has(a.type))).toEqual([]);
    });
});
