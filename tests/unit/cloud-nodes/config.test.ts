import { cidrsOverlap, gatewayTunnelAddress, machineShape, MAX_CLOUD_NODES } from "../../../config/cloud-nodes";
import { twoHosts, withGcp } from "../../helpers/fixtures";
import { parseStackConfig } from "../../../config";
import { ConfigError } from "../../../config/load";
import { configProblems, parseConfig, toCliConfig } from "../../helpers/harness";

/** A public egress address (TEST-NET-2) for the tunnel, unless the test sets `tunnel` itself. */
const EGRESS = { workstationEgressCidr: "198.51.100.7/32" };

function problems(cloudNodes: Record<string, any>, mutate: (raw: Record<string, any>) => void = () => {}): string[] {
    const raw = withGcp();
    raw.gcp.cloudNodes = { tunnel: EGRESS, ...cloudNodes };
    mutate(raw);
    return configProblems(raw);
}

describe("gcp.cloudNodes config", () => {
    test("off by default, with defaults that pass the rules when switched on", () => {
        const cfg = parseConfig(withGcp()).gcp!.cloudNodes;
        expect(cfg).toMatchObject({ enabled: false, partition: "cloud", maxNodes: 2, machineType: "g2-standard-8", gpu: { type: "NVIDIA_L4", count: 1 }, spot: false });
        expect(problems({ enabled: true })).toEqual([]);
    });

    test("a GPU the machine family does not take, and a wrong built-in count", () => {
        expect(problems({ enabled: true, machineType: "g2-standard-8", gpu: { type: "NVIDIA_TESLA_T4" } })).toEqual([
            "aihpc:gcp.cloudNodes.gpu.type: NVIDIA_TESLA_T4 is not available on machine type 'g2-standard-8': expected NVIDIA_L4",
        ]);
        expect(problems({ enabled: true, machineType: "a2-highgpu-2g", gpu: { type: "NVIDIA_TESLA_A100", count: 1 }, zones: ["europe-west4-a"] })).toEqual([
            "aihpc:gcp.cloudNodes.gpu.count: machine type 'a2-highgpu-2g' has 2 NVIDIA_TESLA_A100, got count 1",
        ]);
        expect(problems({ enabled: true, machineType: "e2-standard-8" })).toEqual([expect.stringMatching(/^aihpc:gcp\.cloudNodes\.machineType: machine type 'e2-standard-8' takes no GPU/)]);
    });

    test("zones: in gcp.region, known, offering the GPU, each once", () => {
        expect(problems({ enabled: true, zones: ["europe-west4-b", "us-central1-a", "europe-west4-b"] })).toEqual([
            "aihpc:gcp.cloudNodes.zones[1]: zone 'us-central1-a' is not in gcp.region 'europe-west4': the nodes use the stack's regional subnet",
            "aihpc:gcp.cloudNodes.zones[2]: zone 'europe-west4-b' is listed twice",
        ]);
        expect(problems({ enabled: true, machineType: "n1-standard-8", gpu: { type: "NVIDIA_TESLA_P100" }, zones: ["europe-west4-a", "europe-west4-c"] })).toEqual([
            "aihpc:gcp.cloudNodes.zones[1]: NVIDIA_TESLA_P100 is not offered in zone 'europe-west4-c': use europe-west4-a",
        ]);
    });

    test("maxNodes is capped", () => {
        expect(problems({ enabled: true, maxNodes: MAX_CLOUD_NODES + 1 })).toEqual([expect.stringMatching(/^aihpc:gcp\.cloudNodes\.maxNodes: .*64/)]);
    });

    test("the partition name may not clash with a workstation partition", () => {
        expect(problems({ enabled: true, partition: "gpu" })).toEqual([
            "aihpc:gcp.cloudNodes.partition: 'gpu' is already a workstation.slurm.partitions name: pick another name for the cloud partition",
        ]);
    });

    test("needs the network and the workstation identity; rules run only when on", () => {
        expect(problems({ enabled: true }, (raw) => (raw.gcp.network = { enabled: false }))).toEqual([expect.stringMatching(/^aihpc:gcp\.cloudNodes\.enabled: cloud nodes run in the stack's VPC/)]);
        expect(problems({ enabled: false, partition: "gpu", machineType: "e2-standard-8" })).toEqual([]);
    });

    test("machine shapes follow Compute Engine's tables", () => {
        expect(machineShape("g2-standard-8")).toEqual({ cpus: 8, memoryMb: 32768 });
        expect(machineShape("a2-highgpu-1g")).toEqual({ cpus: 12, memoryMb: 85 * 1024 });
        expect(machineShape("a3-highgpu-8g")).toEqual({ cpus: 208, memoryMb: 1872 * 1024 });
        expect(machineShape("n1-standard-8")).toEqual({ cpus: 8, memoryMb: 30720 });
        expect(machineShape("g2-standard-7")).toBeUndefined();
    });

    test("backend 'testbed': needs a private http stand-in URL, and only with that backend", () => {
        expect(problems({ enabled: true, backend: "testbed" })).toEqual([
            "aihpc:gcp.cloudNodes.testbedApi: required with backend 'testbed': the stand-in compute API's URL, http://<private IPv4>:<port>/compute/v1",
        ]);
        for (const url of ["http://8.8.8.8:8780/compute/v1", "https://10.0.0.1:8780/compute/v1", "http://compute.googleapis.com/compute/v1", "http://10.0.0.1:8780/x"]) {
            expect(problems({ enabled: true, backend: "testbed", testbedApi: url })).toEqual([
                `aihpc:gcp.cloudNodes.testbedApi: expected http://<private IPv4>:<port>/compute/v1 (the testbed's stand-in compute API), got '${url}'`,
            ]);
        }
        expect(problems({ enabled: true, backend: "testbed", testbedApi: "http://10.213.0.1:8780/compute/v1" })).toEqual([]);
        expect(problems({ enabled: true, testbedApi: "http://10.213.0.1:8780/compute/v1" })).toEqual([
            "aihpc:gcp.cloudNodes.testbedApi: set, but backend is 'gce': remove it (it is for backend 'testbed', the project's own tests)",
        ]);
    });

    test("backend 'testbed' only in a stack named testbed*: never by accident in a production stack", () => {
        const raw = withGcp();
        raw.gcp.cloudNodes = { enabled: true, backend: "testbed", testbedApi: "http://10.213.0.1:8780/compute/v1", tunnel: EGRESS };
        const { config, secretKeys } = toCliConfig(raw, ["sshPrivateKey"]);
        let err: unknown;
        try {
            parseStackConfig(config, new Set(secretKeys), "gcp");
        } catch (e) {
            err = e;
        }
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).problems).toEqual([
            {
                path: "aihpc:gcp.cloudNodes.backend",
                message:
                    "'testbed' boots test hosts through a stand-in API instead of Compute Engine instances, for this project's own real-host tests: only stacks named testbed* may use it (this stack: 'gcp'); use 'gce'",
            },
        ]);
        expect(parseStackConfig(config, new Set(secretKeys), "testbed").gcp!.cloudNodes.backend).toBe("testbed");
    });

    test("tunnel: on by default, and then the workstation's public egress address is required", () => {
        expect(parseConfig(withGcp()).gcp!.cloudNodes.tunnel).toEqual({ enabled: true, port: 51820, interface: "aihpc-wg", machineType: "e2-micro", keepalive: 25 });
        expect(problems({ enabled: true, tunnel: {} })).toEqual([
            'aihpc:gcp.cloudNodes.tunnel.workstationEgressCidr: required with the tunnel on: the public IPv4 address the workstation\'s traffic leaves from, such as "203.0.113.7/32" (the gateway\'s UDP port admits only it); or tunnel.enabled false where the nodes reach the controller another way',
        ]);
        expect(problems({ enabled: true, tunnel: { enabled: false } })).toEqual([]);
        expect(problems({ enabled: false, tunnel: {} })).toEqual([]);
    });

    test("tunnel: the egress address is public, without host bits; no /8 by mistake", () => {
        expect(problems({ enabled: true, tunnel: { workstationEgressCidr: "192.168.1.20/32" } })).toEqual([
            expect.stringMatching(/^aihpc:gcp\.cloudNodes\.tunnel\.workstationEgressCidr: '192\.168\.1\.20\/32' is a private address: give the public address/),
        ]);
        expect(problems({ enabled: true, tunnel: { workstationEgressCidr: "198.51.100.7/24" } })).toEqual([
            "aihpc:gcp.cloudNodes.tunnel.workstationEgressCidr: '198.51.100.7/24' has host bits set: use its network address or a /32",
        ]);
        expect(problems({ enabled: true, tunnel: { workstationEgressCidr: "198.51.100.0/24" } })).toEqual([]);
        expect(problems({ enabled: true, tunnel: { workstationEgressCidr: "198.0.0.0/8" } })).toEqual([
            'aihpc:gcp.cloudNodes.tunnel.workstationEgressCidr: expected a public IPv4 CIDR from /16 to /32 such as "203.0.113.7/32", got "198.0.0.0/8"',
        ]);
    });

    test("tunnel: its range outside the nodes' subnet, room for both ends, the gateway's address in it and its own", () => {
        expect(problems({ enabled: true, tunnelCidr: "10.20.0.128/25" })).toEqual([
            "aihpc:gcp.cloudNodes.tunnelCidr: 10.20.0.128/25 overlaps gcp.network.subnetCidr 10.20.0.0/24: the VPC routes the tunnel's addresses to the gateway, which a subnet's own route would override; pick a range outside it",
        ]);
        expect(problems({ enabled: true, tunnelCidr: "10.99.0.1/32" })).toEqual([
            "aihpc:gcp.cloudNodes.tunnelCidr: 10.99.0.1/32 is too small for the tunnel: the controller and the gateway need an address each (use /30 or larger)",
            "aihpc:gcp.cloudNodes.tunnel.gatewayAddress: 10.99.0.2 is not in tunnelCidr 10.99.0.1/32: set tunnel.gatewayAddress to a free address in it",
        ]);
        expect(problems({ enabled: true, controllerAddress: "10.99.0.9", tunnel: { ...EGRESS, gatewayAddress: "10.99.0.9" } })).toEqual([
            "aihpc:gcp.cloudNodes.tunnel.gatewayAddress: 10.99.0.9 is the controller's tunnel address (controllerAddress): the gateway needs its own",
        ]);
        expect(problems({ enabled: true, tunnel: { ...EGRESS, interface: "wireguard-to-the-cloud" } })).toEqual([
            "aihpc:gcp.cloudNodes.tunnel.interface: expected an interface name: a lowercase letter, then up to 14 lowercase letters, digits or '-', got \"wireguard-to-the-cloud\"",
        ]);
        const t = { tunnelCidr: "10.99.0.0/24", tunnel: { enabled: true } } as any;
        expect(gatewayTunnelAddress(t)).toBe("10.99.0.2");
        expect(gatewayTunnelAddress({ ...t, controllerAddress: "10.99.0.254" })).toBe("10.99.0.255");
        expect(gatewayTunnelAddress({ ...t, tunnel: { gatewayAddress: "10.99.0.7" } })).toBe("10.99.0.7");
        expect([cidrsOverlap("10.0.0.0/8", "10.20.0.0/24"), cidrsOverlap("10.99.0.0/24", "10.20.0.0/24"), cidrsOverlap("10.20.0.0/24", "10.20.0.255/32")]).toEqual([true, false, true]);
    });

    test("tunnel: a workstation of several hosts is accepted; no host's address may lie in a range the controller routes into the tunnel", () => {
        const raw = withGcp(twoHosts());
        raw.gcp.cloudNodes = { enabled: true, tunnel: EGRESS };
        expect(configProblems(raw)).toEqual([]);
        raw.workstation.hosts[0].address = "10.20.0.11";
        expect(configProblems(raw)).toEqual([
            "aihpc:gcp.cloudNodes.tunnel.enabled: workstation host ws1's address 10.20.0.11 lies in gcp.network.subnetCidr 10.20.0.0/24, which the Slurm controller routes into the tunnel: move gcp.network.subnetCidr to a range the workstation's network does not use",
        ]);
        raw.workstation.hosts[0].address = "10.99.0.11";
        expect(configProblems(raw)).toEqual([
            "aihpc:gcp.cloudNodes.tunnel.enabled: workstation host ws1's address 10.99.0.11 lies in gcp.cloudNodes.tunnelCidr 10.99.0.0/24, which the Slurm controller routes into the tunnel: move gcp.cloudNodes.tunnelCidr to a range the workstation's network does not use",
        ]);
        raw.workstation.hosts[0].address = "ws1.lab.example";
        raw.workstation.hosts[1].address = "10.20.0.12";
        expect(configProblems(raw)).toEqual([
            "aihpc:gcp.cloudNodes.tunnel.enabled: workstation host ws2's address 10.20.0.12 lies in gcp.network.subnetCidr 10.20.0.0/24, which the Slurm controller routes into the tunnel: move gcp.network.subnetCidr to a range the workstation's network does not use",
        ]);
        // A name is the nodes' to map (/etc/hosts); the check is the tunnel's.
        raw.workstation.hosts[1].address = "10.0.0.12";
        expect(configProblems(raw)).toEqual([]);
        raw.workstation.hosts[1].address = "10.20.0.12";
        raw.gcp.cloudNodes.tunnel = { enabled: false };
        expect(configProblems(raw)).toEqual([]);
    });
});
