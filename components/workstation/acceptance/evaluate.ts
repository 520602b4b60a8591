// The acceptance suite's evaluation: spec lookup by the GPU's name, pass/fail
// against fractions of the datasheet peak, the JSON report and the Prometheus
// textfile metrics. The host runs the same logic in scripts/evaluate.py
// (Python: what a Debian 12 workstation surely has; no Node there); the unit
// tests check that both give the same report and the same metrics text for the
// H200 measurements, so change both together. The rules themselves (which
// measurement is held to which peak and threshold) are data in gpu-specs.json,
// read by both.
import * as fs from "fs";
import * as path from "path";

export const SCHEMA = "aihpc.gpu-acceptance/v1";
export const SPECS_FILE = path.join(__dirname, "gpu-specs.json");

export type ThresholdKey = "deviceBandwidth" | "hostDeviceBandwidth" | "gemm";
export type MinFractions = Record<ThresholdKey, number>;
export const DEFAULT_MIN: MinFractions = { deviceBandwidth: 0.75, hostDeviceBandwidth: 0.6, gemm: 0.6 };

export type PeakField = "memoryBandwidthGBps" | "hostDeviceGBps" | "fp32Tflops" | "tf32Tflops" | "fp16Tflops" | "bf16Tflops";

export interface GpuSpec {
    id: string;
    name: string;
    /** Names as nvidia-smi prints them; matched after `normalizeName`. */
    names: string[];
    memoryGB: number;
    memoryBandwidthGBps: number;
    pcie: { gen: number; lanes: number };
    /** One direction of the PCIe link. */
    hostDeviceGBps: number;
    fp32Tflops: number;
    tf32Tflops: number;
    fp16Tflops: number;
    bf16Tflops: number;
    /** The datasheet, with the figures it gives. */
    source: string;
    /** How figures the datasheet does not state directly were derived. */
    derived?: string;
}

export interface MeasurementRule {
    peak: PeakField | null;
    /** Pass/fail against this minimum fraction of peak; null: informational. */
    threshold: ThresholdKey | null;
}

export interface ComparisonRule {
    name: string;
    measurement: string;
    reference: string;
    target: number;
}

export interface SpecTable {
    gpus: GpuSpec[];
    measurements: Record<string, MeasurementRule>;
    comparisons: ComparisonRule[];
}

export function loadSpecs(file = SPECS_FILE): SpecTable {
    return JSON.parse(fs.readFileSync(file, "utf8")) as SpecTable;
}

/** Case, a leading "NVIDIA " and '-'/'_' versus spaces don't matter: "A100-SXM4-40GB" = "NVIDIA A100 SXM4 40GB". */
export function normalizeName(name: string): string {
    const s = name.trim().toLowerCase().replace(/[\s_-]+/g, " ");
    return s.startsWith("nvidia ") ? s.slice("nvidia ".length) : s;
}

/** The spec of a GPU by its nvidia-smi name; undefined when the table has none (figures are then informational). */
export function findSpec(specs: SpecTable, name: string): GpuSpec | undefined {
    const want = normalizeName(name);
    return specs.gpus.find((g) => g.names.some((n) => normalizeName(n) === want));
}

/** Peak of one PCIe direction in GB/s: GT/s per lane x lanes x 128/130 / 8 (gen 3 to 5). */
export function pcieGBps(gen: number, lanes: number): number {
    const gts: Record<number, number> = { 3: 8, 4: 16, 5: 32 };
    if (!(gen in gts)) throw new Error(`PCIe gen ${gen}: only 3 to 5 are known`);
    return (gts[gen] * lanes * 128) / 130 / 8;
}

// ---- raw measurements (JSON lines from the CUDA programs, torch_matmul.py and the runner)

export interface DeviceLine {
    type: "device";
    index: number;
    name: string;
    uuid: string;
    pci_bus_id?: string;
    cc?: string;
    memory_bytes?: number;
    [k: string]: unknown;
}

export interface MeasurementLine {
    type: "measurement";
    name: string;
    value: number | null;
    unit: "GB/s" | "TFLOP/s";
    median_ms: number;
    min_ms: number;
    max_ms: number;
    repeats: number;
    work: number;
    verified: boolean;
    error: number | null;
    tolerance: number | null;
    note?: string;
}

export interface SkippedLine {
    type: "skipped";
    name: string;
    reason?: string;
}

export interface RunLine {
    type: "run";
    host?: string;
    started?: number;
    finished?: number;
    driver?: string;
}

export interface RunError {
    message?: string;
    [k: string]: unknown;
}

export interface RawRun {
    run: Partial<RunLine>;
    gpus: { device: DeviceLine; lines: (MeasurementLine | SkippedLine)[] }[];
    errors: RunError[];
}

/** Each measurement belongs to the last device line before it (programs print theirs first). */
export function parseRaw(text: string): RawRun {
    const out: RawRun = { run: {}, gpus: [], errors: [] };
    const byUuid = new Map<string, RawRun["gpus"][number]>();
    let current: RawRun["gpus"][number] | undefined;
    text.split(/\r?\n/).forEach((raw, i) => {
        const line = raw.trim();
        const no = i + 1;
        if (!line) return;
        let rec: { type?: string; [k: string]: unknown };
        try {
            rec = JSON.parse(line);
        } catch {
            out.errors.push({ message: `line ${no}: not JSON: ${line.slice(0, 200)}` });
            return;
        }
        switch (rec.type) {
            case "run":
                out.run = rec as RunLine;
                break;
            case "device": {
                const d = rec as DeviceLine;
                if (!byUuid.has(d.uuid)) {
                    const g = { device: d, lines: [] };
                    byUuid.set(d.uuid, g);
                    out.gpus.push(g);
                }
                current = byUuid.get(d.uuid);
                break;
            }
            case "error": {
                const { type: _type, ...rest } = rec;
                out.errors.push(rest);
                break;
            }
            case "measurement":
            case "skipped":
                if (!current) out.errors.push({ message: `line ${no}: ${rec.type} before any device line` });
                else current.lines.push(rec as unknown as MeasurementLine | SkippedLine);
                break;
            case "device_count":
                break;
            default:
                out.errors.push({ message: `line ${no}: unknown type ${pyRepr(rec.type)}` });
        }
    });
    return out;
}

// Python's repr of what JSON can hold in "type" (so both evaluators word errors alike).
function pyRepr(v: unknown): string {
    if (v === undefined || v === null) return "None";
    if (typeof v === "string") return `'${v}'`;
    return String(v);
}

// ---- evaluation

export type MeasurementStatus = "pass" | "fail" | "info";
export type Status = "pass" | "fail" | "informational";

export interface EvaluatedMeasurement {
    name: string;
    value: number | null;
    unit: "GB/s" | "TFLOP/s";
    peak: number | null;
    fraction_of_peak: number | null;
    min_fraction_of_peak: number | null;
    status: MeasurementStatus;
    verified: boolean;
    error: number | null;
    tolerance: number | null;
    median_ms: number;
    min_ms: number;
    max_ms: number;
    repeats: number;
    note?: string;
}

export interface Comparison {
    name: string;
    measurement: string;
    reference: string;
    ratio: number;
    target: number;
    meets_target: boolean;
}

export interface GpuReport {
    index: number;
    name: string;
    uuid: string;
    pci_bus_id: string | null;
    compute_capability: string | null;
    memory_bytes: number | null;
    spec: { id: string; name: string; source: string } | null;
    status: Status;
    reasons: string[];
    measurements: EvaluatedMeasurement[];
    comparisons: Comparison[];
}

export interface Report {
    schema: typeof SCHEMA;
    host: string | null;
    started: number | null;
    finished: number | null;
    driver: string | null;
    min_fraction_of_peak: MinFractions;
    status: Status;
    errors: RunError[];
    gpus: GpuReport[];
}

// Numbers in reason texts: the same digits as in the metrics; "none" for a missing one.
function textNumber(x: number | null): string {
    return x === null ? "none" : promNumber(x);
}

function evaluateGpu(specs: SpecTable, min: MinFractions, gpu: RawRun["gpus"][number]): GpuReport {
    const dev = gpu.device;
    const spec = findSpec(specs, dev.name);
    const rules = specs.measurements;
    const reasons: string[] = [];
    const measurements: EvaluatedMeasurement[] = [];
    const seen = new Map<string, EvaluatedMeasurement | null>();
    for (const rec of gpu.lines) {
        if (rec.type === "skipped") {
            seen.set(rec.name, null);
            reasons.push(`${rec.name}: skipped (${rec.reason ?? ""})`);
            continue;
        }
        const rule: MeasurementRule = rules[rec.name] ?? { peak: null, threshold: null };
        const peak = spec && rule.peak ? spec[rule.peak] ?? null : null;
        const fraction = peak && rec.value !== null ? rec.value / peak : null;
        const minFraction = rule.threshold && spec ? min[rule.threshold] : null;
        let status: MeasurementStatus;
        if (!rec.verified) {
            status = "fail";
            reasons.push(`${rec.name}: result wrong (error ${textNumber(rec.error)}, tolerance ${textNumber(rec.tolerance)})`);
        } else if (minFraction !== null && fraction !== null) {
            status = fraction >= minFraction ? "pass" : "fail";
            if (status === "fail") {
                reasons.push(`${rec.name}: ${textNumber(rec.value)} ${rec.unit} is ${fraction.toFixed(3)} of peak ${textNumber(peak)}, below ${textNumber(minFraction)}`);
            }
        } else {
            status = "info";
        }
        const m: EvaluatedMeasurement = {
            name: rec.name,
            value: rec.value,
            unit: rec.unit,
            peak,
            fraction_of_peak: fraction,
            min_fraction_of_peak: minFraction,
            status,
            verified: rec.verified,
            error: rec.error,
            tolerance: rec.tolerance,
            median_ms: rec.median_ms,
            min_ms: rec.min_ms,
            max_ms: rec.max_ms,
            repeats: rec.repeats,
        };
        if (rec.note !== undefined) m.note = rec.note;
        measurements.push(m);
        seen.set(rec.name, m);
    }
    if (spec) {
        for (const [n, r] of Object.entries(rules)) if (r.threshold && !seen.has(n)) reasons.push(`${n}: not measured`);
    }
    const comparisons: Comparison[] = [];
    for (const c of specs.comparisons) {
        const a = seen.get(c.measurement);
        const b = seen.get(c.reference);
        if (a && b && a.value && b.value) {
            const ratio = a.value / b.value;
            comparisons.push({ name: c.name, measurement: c.measurement, reference: c.reference, ratio, target: c.target, meets_target: ratio >= c.target });
        }
    }
    const failed = measurements.some((m) => m.status === "fail");
    let status: Status;
    if (spec) {
        const gatingMissing = Object.entries(rules).some(([n, r]) => r.threshold && !seen.get(n));
        status = failed || gatingMissing ? "fail" : "pass";
    } else {
        status = failed ? "fail" : "informational";
        reasons.unshift(`no spec for '${dev.name}' in gpu-specs.json: figures are informational only`);
    }
    return {
        index: dev.index,
        name: dev.name,
        uuid: dev.uuid,
        pci_bus_id: dev.pci_bus_id ?? null,
        compute_capability: dev.cc ?? null,
        memory_bytes: dev.memory_bytes ?? null,
        spec: spec ? { id: spec.id, name: spec.name, source: spec.source } : null,
        status,
        reasons,
        measurements,
        comparisons,
    };
}

export function evaluate(specs: SpecTable, min: MinFractions, raw: RawRun): Report {
    const gpus = raw.gpus.map((g) => evaluateGpu(specs, min, g));
    const statuses = gpus.map((g) => g.status);
    let status: Status;
    if (raw.errors.length || !gpus.length || statuses.includes("fail")) status = "fail";
    else if (statuses.includes("informational")) status = "informational";
    else status = "pass";
    return {
        schema: SCHEMA,
        host: raw.run.host ?? null,
        started: raw.run.started ?? null,
        finished: raw.run.finished ?? null,
        driver: raw.run.driver ?? null,
        min_fraction_of_peak: min,
        status,
        errors: [...raw.errors, ...(gpus.length ? [] : [{ message: "no GPU was measured" }])],
        gpus,
    };
}

// ---- Prometheus textfile metrics

export const METRIC_PREFIX = "aihpc_gpu_acceptance_";
const UNIT_SCALE: Record<string, [string, number]> = {
    "GB/s": ["bandwidth_bytes_per_second", 1e9],
    "TFLOP/s": ["flops_per_second", 1e12],
};
const HELP: Record<string, string> = {
    bandwidth_bytes_per_second: "Measured bandwidth in bytes per second (device memory: read + written; host-device: copied).",
    flops_per_second: "Measured throughput (floating-point operations per second).",
};

/** Plain decimal with the shortest round-trip digits: 4300, 0.8928854166666668, 1.5e-7 -> 0.00000015. */
export function promNumber(x: number | boolean): string {
    if (typeof x === "boolean") return x ? "1" : "0";
    if (x === 0) return "0";
    const [mant, expText] = x.toExponential().split("e");
    const neg = mant.startsWith("-");
    const digits = mant.replace("-", "").replace(".", "");
    const exp = Number(expText); // value = 0.d1d2... * 10^(exp + 1)
    const point = exp + 1;
    let s: string;
    if (point <= 0) s = `0.${"0".repeat(-point)}${digits}`;
    else if (point >= digits.length) s = digits + "0".repeat(point - digits.length);
    else s = `${digits.slice(0, point)}.${digits.slice(point)}`;
    return neg ? `-${s}` : s;
}

export function promLabel(v: string | number): string {
    return String(v).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

export function renderProm(report: Report): string {
    const families = new Map<string, { help: string; samples: string[] }>();
    const add = (name: string, help: string, labels: Record<string, string | number>, value: number | boolean) => {
        if (!families.has(name)) families.set(name, { help, samples: [] });
        const lab = Object.entries(labels)
            .map(([k, v]) => `${k}="${promLabel(v)}"`)
            .join(",");
        families.get(name)!.samples.push(`${name}{${lab}} ${promNumber(value)}`);
    };
    const p = METRIC_PREFIX;
    for (const g of report.gpus) {
        const base = { gpu: g.index, uuid: g.uuid, model: g.name };
        add(p + "passed", "1 when the GPU passed its acceptance checks (0: failed or informational only).", base, g.status === "pass");
        add(p + "spec_known", "1 when the GPU has a spec in gpu-specs.json (else figures are informational).", base, g.spec !== null);
        for (const m of g.measurements) {
            const lab = { ...base, measurement: m.name };
            const [metric, scale] = UNIT_SCALE[m.unit];
            if (m.value !== null) add(p + metric, HELP[metric], lab, Math.floor(m.value * scale + 0.5));
            if (m.peak !== null) add(p + "peak_" + metric, "The GPU's datasheet peak for this measurement.", lab, Math.floor(m.peak * scale + 0.5));
            if (m.fraction_of_peak !== null) add(p + "fraction_of_peak", "Measured rate over the datasheet peak.", lab, m.fraction_of_peak);
            if (m.min_fraction_of_peak !== null) add(p + "min_fraction_of_peak", "Fraction of peak this measurement must reach.", lab, m.min_fraction_of_peak);
            add(p + "verified", "1 when the measured kernel's result was checked correct.", lab, m.verified);
            add(p + "check_passed", "1 unless the measurement failed (wrong result, or below its minimum fraction).", lab, m.status !== "fail");
        }
        for (const c of g.comparisons) {
            add(p + "comparison_ratio", "Suite figure over a reference figure measured in the same run.", { ...base, comparison: c.name }, c.ratio);
        }
    }
    add(p + "errors", "Errors of the run (a program that crashed, output that did not parse).", {}, report.errors.length);
    add(p + "run_passed", "1 when the whole run passed.", { status: report.status }, report.status === "pass");
    if (report.finished !== null) {
        add(p + "last_run_timestamp_seconds", "When the run finished (Unix time).", {}, report.finished);
        if (report.started !== null) add(p + "duration_seconds", "How long the run took.", {}, report.finished - report.started);
    }
    const out: string[] = [];
    for (const [name, f] of families) out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} gauge`, ...f.samples);
    return out.join("\n") + "\n";
}
