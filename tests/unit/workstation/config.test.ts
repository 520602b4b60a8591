// The workstation checks added with the Slurm and monitoring components.
import { configProblems, parseConfig } from "../../helpers/harness";
import { twoHosts } from "../../helpers/fixtures";

function problems(edit: (w: any) => void): string {
    const raw = twoHosts();
    edit(raw.workstation);
    return configProblems(raw).join("\n");
}

describe("workstation config checks", () => {
    test("defaults are valid", () => {
        const c = parseConfig(twoHosts()).workstation;
        expect(c.base.aptMirror).toBe("http://deb.debian.org/debian");
        expect(c.slurm.cgroups).toBe(true);
        expect(c.monitoring.grafana.aptRepository).toBe("https://apt.grafana.com");
    });

    test("gpus.devices: one file per expected GPU, absolute paths, compute hosts only", () => {
        expect(problems((w) => (w.hosts[0].gpus = { count: 2, devices: ["/dev/fakegpu0"] }))).toContain("lists 1 device file(s) but gpus.count is 2");
        expect(problems((w) => (w.hosts[0].gpus = { count: 1, devices: ["dev/x"] }))).toContain("expected an absolute path");
        expect(problems((w) => (w.hosts[0].gpus = { count: 1, devices: ["/dev/x; rm -rf /"] }))).toContain("expected an absolute path");
        expect(
            problems((w) => {
                w.hosts[0].roles = ["controller"];
                w.hosts[0].gpus = { count: 1, devices: ["/dev/fakegpu0"] };
            }),
        ).toContain("has no 'compute' role, so Slurm never schedules its GPUs");
        expect(problems((w) => (w.hosts[0].gpus = { count: 1, devices: ["/dev/fakegpu0"], gresType: "Fake GPU" }))).toContain("expected a GRES type");
        expect(problems((w) => (w.hosts[0].gpus = { count: 1, devices: ["/dev/fakegpu0"] }))).toBe("");
    });

    test("monitoring ports may not collide with each other or with Slurm's", () => {
        expect(problems((w) => (w.monitoring = { nodeExporterPort: 6818 }))).toContain("port 6818 is already used by slurm.slurmdPort");
        expect(problems((w) => (w.monitoring = { grafana: { port: 9090 } }))).toContain("port 9090 is already used by monitoring.prometheus.port");
        expect(problems((w) => (w.monitoring = { grafana: { enabled: false, port: 9090 } }))).toBe("");
        expect(problems((w) => (w.slurm = { slurmdPort: 6817 }))).toContain("slurmdPort 6817 is also the slurmctldPort");
    });

    test("monitoring without Slurm still needs one controller for Prometheus", () => {
        expect(
            problems((w) => {
                w.slurm = { enabled: false };
                w.hosts[0].roles = ["compute"];
            }),
        ).toContain("monitoring runs Prometheus on the host with role 'controller': expected exactly one, got 0");
    });
});
