// The runner checks its minimums, the conf file, the spec table and its
// output folders before it measures anything: a typo fails in a fraction of a
// second, not after minutes of exclusive GPU time. Stand-in programs that
// would take 5 s and log that they ran prove that nothing was measured.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ACCEPTANCE = path.join(__dirname, "../../../components/workstation/acceptance");

describe("aihpc-gpu-acceptance: bad input fails first", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-acceptance-early-"));
        fs.mkdirSync(`${dir}/bin`);
        for (const p of ["aihpc-membw", "aihpc-hostbw", "aihpc-gemm"]) {
            fs.writeFileSync(`${dir}/bin/${p}`, `#!/bin/sh\necho "${p} $*" >>'${dir}/ran.log'\ncase " $* " in *" --list "*) ;; *) sleep 5 ;; esac\n`, { mode: 0o755 });
        }
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const runner = (args: string[], conf?: string) => {
        if (conf !== undefined) fs.writeFileSync(`${dir}/acc.conf`, conf);
        const t0 = Date.now();
        const r = spawnSync(path.join(ACCEPTANCE, "scripts/aihpc-gpu-acceptance"), args, {
            encoding: "utf8",
            env: { ...process.env, AIHPC_ACCEPTANCE_BIN: `${dir}/bin`, AIHPC_ACCEPTANCE_PYTHON: `${dir}/no-python`, AIHPC_ACCEPTANCE_CONF: `${dir}/acc.conf` },
        });
        return { ...r, ms: Date.now() - t0, ran: fs.existsSync(`${dir}/ran.log`) };
    };

    const cases: [string, string[], string | undefined, RegExp][] = [
        ["--min above 1", ["--min", "gemm=1.5"], undefined, /--min gemm=1\.5: expected a fraction in \(0, 1\]/],
        ["--min not a number", ["--min", "deviceBandwidth=0,7"], undefined, /--min deviceBandwidth=0,7: expected a fraction in \(0, 1\]/],
        ["--min unknown key", ["--min", "gemmm=0.5"], undefined, /--min gemmm=0\.5: unknown key \(one of deviceBandwidth, hostDeviceBandwidth, gemm\)/],
        ["a bad value in the conf file", [], "# Managed by aihpc\ndeviceBandwidth=0.75\ngemm=abc\n", /acc\.conf:3: gemm=abc: expected a fraction of peak in \(0, 1\]/],
        ["an unknown key in the conf file", [], "gemm=0.6\nhostDeviceBw=0.6\n", /acc\.conf:2: unknown key 'hostDeviceBw'/],
        ["a --json file in a missing folder", ["--json", "/nonexistent/r.json"], undefined, /--json \/nonexistent\/r\.json: folder \/nonexistent does not exist/],
    ];
    test.each(cases)("%s: exit 2 at once, nothing measured", (_what, args, conf, message) => {
        const r = runner(args, conf);
        expect({ status: r.status, ran: r.ran }).toEqual({ status: 2, ran: false });
        expect(r.stderr).toMatch(message);
        // About 0.3 s on an idle machine (the runner and one python3); the
        // bound leaves room for a loaded one, and is below one stand-in's 5 s.
        expect(r.ms).toBeLessThan(4000);
    });

    test("good input still runs the programs (the check lets it through)", () => {
        const r = runner(["--min", "gemm=0.7", "--quick", "--no-torch"], "deviceBandwidth=0.8\npython=python3\n");
        expect(r.ran).toBe(true);
        expect(fs.readFileSync(`${dir}/ran.log`, "utf8")).toMatch(/^aihpc-membw --list/);
    });
});

describe("evaluate.py --check: the spec table", () => {
    test("a rule with an unknown threshold, or a file that is not JSON: exit 2 naming it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-acceptance-specs-"));
        try {
            const specs = JSON.parse(fs.readFileSync(path.join(ACCEPTANCE, "gpu-specs.json"), "utf8"));
            const ok = spawnSync("python3", [path.join(ACCEPTANCE, "scripts/evaluate.py"), "--check", "--specs", path.join(ACCEPTANCE, "gpu-specs.json")], { encoding: "utf8" });
            expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: "" });
            const name = Object.keys(specs.measurements).find((k) => specs.measurements[k].threshold)!;
            specs.measurements[name].threshold = "gemmFp8";
            fs.writeFileSync(`${dir}/specs.json`, JSON.stringify(specs));
            const bad = spawnSync("python3", [path.join(ACCEPTANCE, "scripts/evaluate.py"), "--check", "--specs", `${dir}/specs.json`], { encoding: "utf8" });
            expect(bad.status).toBe(2);
            expect(bad.stderr).toContain(`measurements.${name}: unknown threshold 'gemmFp8'`);
            fs.writeFileSync(`${dir}/specs.json`, "{ not json");
            const garbled = spawnSync("python3", [path.join(ACCEPTANCE, "scripts/evaluate.py"), "--check", "--specs", `${dir}/specs.json`], { encoding: "utf8" });
            expect(garbled.status).toBe(2);
            expect(garbled.stderr).toMatch(/--specs .*specs\.json: Expecting property name/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
