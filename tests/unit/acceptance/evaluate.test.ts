// The acceptance suite's evaluation (spec lookup, thresholds, report, metrics),
// on the measurements of a real run on an NVIDIA H200 (fixtures/, see
// docs/acceptance.md for the command that produced them).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { oneHost } from "../../helpers/fixtures";
import { parseConfig } from "../../helpers/harness";
import { requireTool } from "../../helpers/tools";
import { stepScript } from "../../../components/steps";
import {
    DEFAULT_MIN,
    evaluate,
    findSpec,
    loadSpecs,
    METRIC_PREFIX,
    normalizeName,
    parseRaw,
    pcieGBps,
    promNumber,
    renderProm,
    Report,
} from "../../../components/workstation/acceptance/evaluate";

const ACCEPTANCE = path.join(__dirname, "../../../components/workstation/acceptance");
const fixture = (f: string) => fs.readFileSync(path.join(__dirname, "fixtures", f), "utf8");
const H200 = fixture("h200-raw.jsonl");
const specs = loadSpecs();

/** The H200 run with the GPU's name replaced (a card the table does not know). */
const renamed = (text: string, name: string) => text.replace(/"name":"NVIDIA H200"/g, `"name":${JSON.stringify(name)}`);

describe("spec table", () => {
    test("covers the required GPUs, each with a datasheet source", () => {
        const ids = specs.gpus.map((g) => g.id);
        for (const id of ["rtx-a5500", "l4", "a100-sxm4-40gb", "a100-sxm4-80gb", "a100-pcie-40gb", "a100-pcie-80gb", "h100-sxm", "h100-pcie", "h200-sxm"]) {
            expect(ids).toContain(id);
        }
        expect(new Set(ids).size).toBe(ids.length);
        const allNames = specs.gpus.flatMap((g) => g.names.map(normalizeName));
        expect(new Set(allNames).size).toBe(allNames.length); // no name matches two entries
        for (const g of specs.gpus) {
            expect(g.source).toMatch(/datasheet/i);
            for (const k of ["memoryBandwidthGBps", "fp32Tflops", "tf32Tflops", "fp16Tflops", "bf16Tflops"] as const) expect(g[k]).toBeGreaterThan(0);
            expect(g.tf32Tflops).toBeGreaterThan(g.fp32Tflops); // dense tensor rates, above plain fp32
            expect(Math.abs(g.bf16Tflops / (2 * g.tf32Tflops) - 1)).toBeLessThan(0.02); // L4: 242/2 vs 120/2
            expect(g.hostDeviceGBps).toBeCloseTo(pcieGBps(g.pcie.gen, g.pcie.lanes), 2);
        }
    });

    test("PCIe peak per direction: gen4 x16 31.5 GB/s, gen5 x16 63.0 GB/s", () => {
        expect(pcieGBps(4, 16)).toBeCloseTo(31.508, 3);
        expect(pcieGBps(5, 16)).toBeCloseTo(63.015, 3);
        expect(() => pcieGBps(7, 16)).toThrow(/gen 7/);
    });

    test("every rule names a peak the specs have and a threshold the config has", () => {
        const defaults = parseConfig(oneHost()).workstation.acceptance.minFractionOfPeak;
        const configured = Object.keys(defaults).sort();
        expect(Object.keys(DEFAULT_MIN).sort()).toEqual(configured);
        expect(defaults).toEqual(DEFAULT_MIN);
        for (const [name, rule] of Object.entries(specs.measurements)) {
            if (rule.peak) for (const g of specs.gpus) expect(typeof g[rule.peak]).toBe("number");
            if (rule.threshold) expect(configured).toContain(rule.threshold);
            expect(name).toMatch(/^[a-z0-9_]+$/);
        }
        // strided access and pageable copies are informational, not pass/fail
        expect(specs.measurements.device_copy_strided32.threshold).toBeNull();
        expect(specs.measurements.h2d_pageable.threshold).toBeNull();
    });
});

describe("spec lookup by nvidia-smi name", () => {
    test.each([
        ["NVIDIA H200", "h200-sxm"],
        ["NVIDIA H200 NVL", "h200-nvl"],
        ["NVIDIA H100 80GB HBM3", "h100-sxm"],
        ["NVIDIA H100 PCIe", "h100-pcie"],
        ["NVIDIA H100 NVL", "h100-nvl"],
        ["NVIDIA RTX A5500", "rtx-a5500"],
        ["nvidia rtx a5500", "rtx-a5500"],
        ["  NVIDIA  RTX   A5500 ", "rtx-a5500"],
        ["NVIDIA L4", "l4"],
        ["NVIDIA A100-SXM4-40GB", "a100-sxm4-40gb"],
        ["A100-SXM4-40GB", "a100-sxm4-40gb"], // older drivers print no "NVIDIA "
        ["NVIDIA A100-SXM4-80GB", "a100-sxm4-80gb"],
        ["NVIDIA A100-PCIE-40GB", "a100-pcie-40gb"],
        ["NVIDIA A100 80GB PCIe", "a100-pcie-80gb"],
    ])("%s -> %s", (name, id) => {
        expect(findSpec(specs, name)?.id).toBe(id);
    });

    test.each(["NVIDIA RTX A5500 Laptop GPU", "NVIDIA GeForce RTX 4090", "NVIDIA H20", "NVIDIA A100", ""])("'%s' has no spec (no guessing)", (name) => {
        expect(findSpec(specs, name)).toBeUndefined();
    });
});

describe("evaluation of the H200 run", () => {
    const report = evaluate(specs, DEFAULT_MIN, parseRaw(H200));
    const gpu = report.gpus[0];
    const m = (name: string) => gpu.measurements.find((x) => x.name === name)!;

    test("passes with the default thresholds, against the H200 SXM spec", () => {
        expect(report.status).toBe("pass");
        expect(report.errors).toEqual([]);
        expect(report.gpus).toHaveLength(1);
        expect(gpu).toMatchObject({ name: "NVIDIA H200", status: "pass", compute_capability: "9.0", spec: { id: "h200-sxm" } });
        expect(gpu.reasons).toEqual([]);
        expect(report.min_fraction_of_peak).toEqual(DEFAULT_MIN);
    });

    test("figures are in the range the hardware allows, every result verified", () => {
        for (const x of gpu.measurements) {
            expect(x.verified).toBe(true);
            expect(x.fraction_of_peak).toBeGreaterThan(0);
            expect(x.fraction_of_peak).toBeLessThan(1); // above peak would mean a wrong count
        }
        expect(m("device_copy").value).toBeGreaterThan(3600); // 0.75 x 4.8 TB/s
        expect(m("gemm_bf16").value).toBeGreaterThan(600);
        expect(m("device_copy_strided32").value).toBeLessThan(m("device_copy").value! / 4);
        expect(m("h2d_pageable").value).toBeLessThan(m("h2d_pinned").value!);
    });

    test("gating and informational measurements", () => {
        expect(m("device_copy")).toMatchObject({ status: "pass", peak: 4800, min_fraction_of_peak: 0.75 });
        expect(m("h2d_pinned")).toMatchObject({ status: "pass", peak: 63.015, min_fraction_of_peak: 0.6 });
        expect(m("gemm_tf32")).toMatchObject({ status: "pass", peak: 494.5, min_fraction_of_peak: 0.6 });
        for (const name of ["device_copy_strided32", "device_memcpy_d2d", "h2d_pageable", "d2h_pageable", "torch_bf16"]) {
            expect(m(name)).toMatchObject({ status: "info", min_fraction_of_peak: null });
        }
    });

    test("the issue's targets: suite GEMM >= 0.9x PyTorch bf16, suite copy >= 0.9x cudaMemcpy D2D", () => {
        const c = Object.fromEntries(gpu.comparisons.map((x) => [x.name, x]));
        expect(c.gemm_bf16_vs_torch).toMatchObject({ meets_target: true, target: 0.9 });
        expect(c.device_copy_vs_memcpy).toMatchObject({ meets_target: true, target: 0.9 });
        // the second run, and a third on another machine start, agree
        for (const f of ["h200-raw-2.jsonl", "h200-raw-3.jsonl"]) {
            const other = evaluate(specs, DEFAULT_MIN, parseRaw(fixture(f)));
            expect(other.status).toBe("pass");
            expect(other.gpus[0].comparisons.map((x) => x.meets_target)).toEqual([true, true]);
        }
    });

    test("a stricter threshold fails the figures below it, and says why", () => {
        const strict = evaluate(specs, { ...DEFAULT_MIN, gemm: 0.8 }, parseRaw(H200));
        expect(strict.status).toBe("fail");
        const g = strict.gpus[0];
        const status = Object.fromEntries(g.measurements.map((x) => [x.name, x.status]));
        expect(status).toMatchObject({ gemm_fp32: "fail", gemm_fp16: "fail", gemm_tf32: "pass", gemm_bf16: "pass", device_copy: "pass" });
        expect(g.reasons).toContain("gemm_fp32: 51.2822 TFLOP/s is 0.765 of peak 67, below 0.8");
        const bw = evaluate(specs, { ...DEFAULT_MIN, deviceBandwidth: 0.9 }, parseRaw(H200)).gpus[0];
        expect(bw.measurements.find((x) => x.name === "device_copy")!.status).toBe("fail");
        expect(bw.measurements.find((x) => x.name === "device_triad")!.status).toBe("pass"); // 0.913
    });

    test("a fast wrong answer fails (fault injected on the H200: copy, D2H, bf16 GEMM)", () => {
        const r = evaluate(specs, DEFAULT_MIN, parseRaw(fixture("h200-fault-raw.jsonl")));
        expect(r.status).toBe("fail");
        const status = Object.fromEntries(r.gpus[0].measurements.map((x) => [x.name, x.status]));
        expect(status).toMatchObject({ device_copy: "fail", d2h_pinned: "fail", gemm_bf16: "fail", device_triad: "pass", gemm_fp16: "pass" });
        expect(r.gpus[0].reasons).toEqual(
            expect.arrayContaining([
                "device_copy: result wrong (error 1024, tolerance 0)",
                "d2h_pinned: result wrong (error 1024, tolerance 0)",
                "gemm_bf16: result wrong (error 0.705894, tolerance 0.01)",
            ]),
        );
        // each of them ran at full speed: only the check catches them
        const gemm = r.gpus[0].measurements.find((x) => x.name === "gemm_bf16")!;
        expect(gemm.fraction_of_peak!).toBeGreaterThan(0.6);
    });

    test("a NaN result (error null) fails", () => {
        const text = H200.replace(/("name":"gemm_fp16".*?"verified":)true,"error":[^,]+/, '$1false,"error":null');
        const r = evaluate(specs, DEFAULT_MIN, parseRaw(text));
        expect(r.gpus[0].reasons).toContain("gemm_fp16: result wrong (error none, tolerance 0.002)");
        expect(r.status).toBe("fail");
    });

    test("a program that crashed: its measurements are missing, the run fails", () => {
        const text = H200.split("\n")
            .filter((l) => !l.includes('"gemm_'))
            .concat('{"type":"error","gpu":0,"program":"gemm","status":1,"message":"gemm exited with status 1: CUBLAS_STATUS_ALLOC_FAILED"}')
            .join("\n");
        const r = evaluate(specs, DEFAULT_MIN, parseRaw(text));
        expect(r.status).toBe("fail");
        expect(r.errors[0]).toMatchObject({ program: "gemm", status: 1 });
        expect(r.gpus[0].reasons).toEqual(["gemm_fp32: not measured", "gemm_tf32: not measured", "gemm_fp16: not measured", "gemm_bf16: not measured"]);
    });

    test("no GPU measured, or output that does not parse, fails", () => {
        expect(evaluate(specs, DEFAULT_MIN, parseRaw("")).errors).toEqual([{ message: "no GPU was measured" }]);
        const r = evaluate(specs, DEFAULT_MIN, parseRaw(H200 + "\nSegmentation fault\n"));
        expect(r.status).toBe("fail");
        expect(r.errors[0].message).toMatch(/not JSON: Segmentation fault/);
    });
});

describe("a GPU without a spec", () => {
    const r = evaluate(specs, DEFAULT_MIN, parseRaw(renamed(H200, "NVIDIA GeForce RTX 4090")));

    test("gives a clear 'no spec, informational only' result", () => {
        expect(r.status).toBe("informational");
        expect(r.gpus[0].status).toBe("informational");
        expect(r.gpus[0].spec).toBeNull();
        expect(r.gpus[0].reasons[0]).toBe("no spec for 'NVIDIA GeForce RTX 4090' in gpu-specs.json: figures are informational only");
        for (const m of r.gpus[0].measurements) expect(m).toMatchObject({ status: "info", peak: null, fraction_of_peak: null, min_fraction_of_peak: null });
        const prom = renderProm(r);
        expect(prom).toMatch(/^aihpc_gpu_acceptance_spec_known\{.*model="NVIDIA GeForce RTX 4090"\} 0$/m);
        expect(prom).toMatch(/^aihpc_gpu_acceptance_passed\{.*\} 0$/m);
        expect(prom).not.toMatch(/fraction_of_peak/);
    });

    test("but a wrong result still fails", () => {
        const text = renamed(fixture("h200-fault-raw.jsonl"), "NVIDIA GeForce RTX 4090");
        expect(evaluate(specs, DEFAULT_MIN, parseRaw(text)).status).toBe("fail");
    });
});

/** Parse Prometheus text exposition format strictly enough to catch what node-exporter rejects. */
function parseExposition(text: string) {
    const metric = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
    const families = new Map<string, { help?: string; type?: string; samples: number }>();
    const series = new Set<string>();
    expect(text.endsWith("\n")).toBe(true);
    for (const line of text.slice(0, -1).split("\n")) {
        let mm: RegExpMatchArray | null;
        if ((mm = line.match(/^# (HELP|TYPE) (\S+) (.+)$/))) {
            expect(mm[2]).toMatch(metric);
            const f = families.get(mm[2]) ?? { samples: 0 };
            if (mm[1] === "HELP") {
                expect(f.help).toBeUndefined();
                f.help = mm[3];
            } else {
                expect(f.type).toBeUndefined();
                expect(["gauge", "counter"]).toContain(mm[3]);
                f.type = mm[3];
            }
            expect(f.samples).toBe(0); // HELP and TYPE come before the samples
            families.set(mm[2], f);
            continue;
        }
        mm = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\} (\S+)$/);
        expect(mm).not.toBeNull();
        const [, name, labels, value] = mm!;
        expect(families.get(name)?.type).toBe("gauge");
        families.get(name)!.samples++;
        expect(Number.isFinite(Number(value))).toBe(true);
        expect(value).toMatch(/^-?\d+(\.\d+)?$/);
        expect(series.has(name + labels)).toBe(false);
        series.add(name + labels);
    }
    return families;
}

describe("Prometheus textfile metrics", () => {
    const report = evaluate(specs, DEFAULT_MIN, parseRaw(H200));
    const prom = renderProm(report);

    test("valid exposition format, one family per metric, all names prefixed", () => {
        const families = parseExposition(prom);
        for (const name of families.keys()) expect(name.startsWith(METRIC_PREFIX)).toBe(true);
        expect([...families.keys()]).toEqual(
            expect.arrayContaining([
                "aihpc_gpu_acceptance_bandwidth_bytes_per_second",
                "aihpc_gpu_acceptance_flops_per_second",
                "aihpc_gpu_acceptance_fraction_of_peak",
                "aihpc_gpu_acceptance_min_fraction_of_peak",
                "aihpc_gpu_acceptance_check_passed",
                "aihpc_gpu_acceptance_verified",
                "aihpc_gpu_acceptance_passed",
                "aihpc_gpu_acceptance_run_passed",
                "aihpc_gpu_acceptance_last_run_timestamp_seconds",
            ]),
        );
    });

    test("base units, GPU labels, and the verdicts", () => {
        const lab = 'gpu="0",uuid="GPU-6837cbe6-e58f-a0b2-bc20-04e473771e19",model="NVIDIA H200"';
        expect(prom).toContain(`aihpc_gpu_acceptance_bandwidth_bytes_per_second{${lab},measurement="device_copy"} 4285850000000\n`);
        expect(prom).toContain(`aihpc_gpu_acceptance_peak_bandwidth_bytes_per_second{${lab},measurement="device_copy"} 4800000000000\n`);
        expect(prom).toContain(`aihpc_gpu_acceptance_flops_per_second{${lab},measurement="gemm_bf16"} 795061000000000\n`);
        expect(prom).toContain(`aihpc_gpu_acceptance_min_fraction_of_peak{${lab},measurement="gemm_bf16"} 0.6\n`);
        expect(prom).toContain(`aihpc_gpu_acceptance_passed{${lab}} 1\n`);
        expect(prom).toContain('aihpc_gpu_acceptance_run_passed{status="pass"} 1\n');
        expect(prom).toContain("aihpc_gpu_acceptance_errors{} 0\n");
        expect(prom).toMatch(/^aihpc_gpu_acceptance_last_run_timestamp_seconds\{\} 1795912210$/m);
    });

    test("label values are escaped", () => {
        const r: Report = JSON.parse(JSON.stringify(report));
        r.gpus[0].name = 'odd "GPU" \\ name\nline';
        const text = renderProm(r);
        expect(text).toContain('model="odd \\"GPU\\" \\\\ name\\nline"');
        parseExposition(text);
    });

    test.each([
        [4300, "4300"],
        [0.8928854166666668, "0.8928854166666668"],
        [1.5e-7, "0.00000015"],
        [4.8e12, "4800000000000"],
        [-2.5, "-2.5"],
        [0, "0"],
        [true, "1"],
    ])("number %p -> %s", (x, s) => {
        expect(promNumber(x)).toBe(s);
    });
});

// The host evaluates with scripts/evaluate.py; it must agree with this module.
const python = spawnSync("python3", ["--version"]).status === 0;
(python ? describe : describe.skip)("parity with scripts/evaluate.py (python3)", () => {
    const cases: [string, string, string[]][] = [
        ["H200 run", H200, []],
        ["H200 run, strict thresholds", H200, ["--min", "gemm=0.8", "--min", "deviceBandwidth=0.9"]],
        ["fault-injected run", fixture("h200-fault-raw.jsonl"), []],
        ["unknown GPU", renamed(H200, "NVIDIA GeForce RTX 4090"), []],
        ["crash and garbage", H200 + '\n{"type":"error","gpu":0,"program":"gemm","status":1,"message":"x"}\nnot json\n', []],
    ];
    test.each(cases)("%s: same report, same metrics text", (_name, raw, args) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aihpc-acceptance-"));
        try {
            const res = spawnSync(
                "python3",
                [path.join(ACCEPTANCE, "scripts/evaluate.py"), "--specs", path.join(ACCEPTANCE, "gpu-specs.json"), "--json", `${dir}/r.json`, "--prom", `${dir}/r.prom`, ...args],
                { input: raw, encoding: "utf8" },
            );
            const min = { ...DEFAULT_MIN };
            for (let i = 0; i < args.length; i += 2) {
                const [k, v] = args[i + 1].split("=");
                (min as any)[k] = Number(v);
            }
            const ts = evaluate(specs, min, parseRaw(raw));
            expect(res.status).toBe(ts.status === "fail" ? 1 : 0);
            expect(res.stdout).toContain(`GPU acceptance: ${ts.status.toUpperCase()}`);
            expect(JSON.parse(fs.readFileSync(`${dir}/r.json`, "utf8"))).toEqual(JSON.parse(JSON.stringify(ts)));
            expect(fs.readFileSync(`${dir}/r.prom`, "utf8")).toBe(renderProm(ts));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("rejects a threshold that is not a fraction", () => {
        const res = spawnSync("python3", [path.join(ACCEPTANCE, "scripts/evaluate.py"), "--specs", path.join(ACCEPTANCE, "gpu-specs.json"), "--min", "gemm=60"], {
            input: H200,
            encoding: "utf8",
        });
        expect(res.status).toBe(2);
        expect(res.stderr).toMatch(/expected a fraction/);
    });
});

test("the runner and the scripts are shellcheck-clean bash with strict mode; the install step with lib.sh in front", () => {
    for (const f of ["scripts/aihpc-gpu-acceptance", "scripts/build.sh", "templates/gpu-acceptance.sbatch"]) {
        const text = fs.readFileSync(path.join(ACCEPTANCE, f), "utf8");
        expect(text).toMatch(/^#!(\/usr\/bin\/env |\/bin\/)bash\n/);
        expect(text).toMatch(/^set -euo pipefail$/m);
    }
    const shellcheck = requireTool("shellcheck");
    execFileSync(shellcheck, ["--severity=style", "scripts/aihpc-gpu-acceptance", "scripts/build.sh", "templates/gpu-acceptance.sbatch"], { cwd: ACCEPTANCE });
    const step = stepScript(path.join(ACCEPTANCE, "scripts"), "install.sh");
    expect(step).toMatch(/case "\$AIHPC_ACTION" in/);
    expect(step.trimEnd().endsWith("aihpc_done")).toBe(true);
    const r = spawnSync(shellcheck, ["--severity=style", "-s", "bash", "-"], { input: step, encoding: "utf8" });
    expect(r.stdout).toBe("");
});
