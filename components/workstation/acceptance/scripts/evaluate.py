#!/usr/bin/env python3
"""Evaluate the aihpc GPU acceptance suite's raw measurements.

Reads JSON lines on stdin (what the CUDA programs, torch_matmul.py and the
runner print), looks each GPU up in gpu-specs.json, sets every figure against
the GPU's peak and the configured minimum fractions, and writes the JSON report
(--json) and Prometheus textfile metrics (--prom); prints a summary table.
Exit status: 0 pass or informational (a GPU without a spec), 1 fail.

The same evaluation lives in ../evaluate.ts for the Pulumi program and its
tests; tests/unit/acceptance checks that both give the same report and the
same metrics text on the H200 fixture. Change both together.

usage: evaluate.py --specs gpu-specs.json [--conf FILE] [--min deviceBandwidth=0.75 ...]
                   [--json FILE] [--prom FILE] [--check] < raw.jsonl
Standard library only (Python 3.9+: Debian 12 ships 3.11).
"""
import argparse
import json
import math
import os
import re
import sys
import tempfile
from decimal import Decimal

SCHEMA = "aihpc.gpu-acceptance/v1"
DEFAULT_MIN = {"deviceBandwidth": 0.75, "hostDeviceBandwidth": 0.6, "gemm": 0.6}
HELP = {
    "bandwidth_bytes_per_second": "Measured bandwidth in bytes per second (device memory: read + written; host-device: copied).",
    "flops_per_second": "Measured throughput (floating-point operations per second).",
}
UNIT_SCALE = {"GB/s": ("bandwidth_bytes_per_second", 1e9), "TFLOP/s": ("flops_per_second", 1e12)}


def normalize_name(name):
    s = re.sub(r"[\s_-]+", " ", name.strip().lower())
    return s[len("nvidia "):] if s.startswith("nvidia ") else s


def find_spec(specs, name):
    want = normalize_name(name)
    for g in specs["gpus"]:
        if any(normalize_name(n) == want for n in g["names"]):
            return g
    return None


def parse_raw(text):
    """JSON lines -> {run, gpus: [{device, lines}], errors}. Each line belongs to the last 'device' line before it."""
    run, gpus, errors, by_uuid, current = {}, [], [], {}, None
    for no, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            errors.append({"message": f"line {no}: not JSON: {line[:200]}"})
            continue
        kind = rec.get("type")
        if kind == "run":
            run = rec
        elif kind == "device":
            if rec["uuid"] not in by_uuid:
                by_uuid[rec["uuid"]] = {"device": rec, "lines": []}
                gpus.append(by_uuid[rec["uuid"]])
            current = by_uuid[rec["uuid"]]
        elif kind == "error":
            errors.append({k: v for k, v in rec.items() if k != "type"})
        elif kind in ("measurement", "skipped"):
            if current is None:
                errors.append({"message": f"line {no}: {kind} before any device line"})
            else:
                current["lines"].append(rec)
        elif kind != "device_count":
            errors.append({"message": f"line {no}: unknown type {kind!r}"})
    return {"run": run, "gpus": gpus, "errors": errors}


def evaluate_gpu(specs, minimum, gpu):
    dev = gpu["device"]
    spec = find_spec(specs, dev["name"])
    rules = specs["measurements"]
    reasons = []
    measurements = []
    seen = {}
    for rec in gpu["lines"]:
        if rec["type"] == "skipped":
            seen[rec["name"]] = None
            reasons.append(f"{rec['name']}: skipped ({rec.get('reason', '')})")
            continue
        rule = rules.get(rec["name"], {"peak": None, "threshold": None})
        peak = spec.get(rule["peak"]) if spec and rule["peak"] else None
        fraction = rec["value"] / peak if peak and rec["value"] is not None else None
        min_fraction = minimum[rule["threshold"]] if rule["threshold"] and spec else None
        if not rec["verified"]:
            status = "fail"
            reasons.append(f"{rec['name']}: result wrong (error {text_number(rec['error'])}, tolerance {text_number(rec['tolerance'])})")
        elif min_fraction is not None and fraction is not None:
            status = "pass" if fraction >= min_fraction else "fail"
            if status == "fail":
                reasons.append(
                    f"{rec['name']}: {text_number(rec['value'])} {rec['unit']} is {fraction:.3f} of peak {text_number(peak)}, below {text_number(min_fraction)}"
                )
        else:
            status = "info"
        m = {
            "name": rec["name"],
            "value": rec["value"],
            "unit": rec["unit"],
            "peak": peak,
            "fraction_of_peak": fraction,
            "min_fraction_of_peak": min_fraction,
            "status": status,
            "verified": rec["verified"],
            "error": rec["error"],
            "tolerance": rec["tolerance"],
            "median_ms": rec["median_ms"],
            "min_ms": rec["min_ms"],
            "max_ms": rec["max_ms"],
            "repeats": rec["repeats"],
        }
        if "note" in rec:
            m["note"] = rec["note"]
        measurements.append(m)
        seen[rec["name"]] = m
    if spec:
        reasons.extend(f"{n}: not measured" for n, r in rules.items() if r["threshold"] and n not in seen)
    comparisons = []
    for c in specs["comparisons"]:
        a, b = seen.get(c["measurement"]), seen.get(c["reference"])
        if a and b and a["value"] and b["value"]:
            ratio = a["value"] / b["value"]
            comparisons.append({"name": c["name"], "measurement": c["measurement"], "reference": c["reference"],
                                "ratio": ratio, "target": c["target"], "meets_target": ratio >= c["target"]})
    failed = any(m["status"] == "fail" for m in measurements)
    if spec:
        gating_missing = any(r["threshold"] and not seen.get(n) for n, r in rules.items())
        status = "fail" if failed or gating_missing else "pass"
    else:
        status = "fail" if failed else "informational"
        reasons.insert(0, f"no spec for '{dev['name']}' in gpu-specs.json: figures are informational only")
    return {
        "index": dev["index"],
        "name": dev["name"],
        "uuid": dev["uuid"],
        "pci_bus_id": dev.get("pci_bus_id"),
        "compute_capability": dev.get("cc"),
        "memory_bytes": dev.get("memory_bytes"),
        "spec": {"id": spec["id"], "name": spec["name"], "source": spec["source"]} if spec else None,
        "status": status,
        "reasons": reasons,
        "measurements": measurements,
        "comparisons": comparisons,
    }


def evaluate(specs, minimum, raw):
    gpus = [evaluate_gpu(specs, minimum, g) for g in raw["gpus"]]
    statuses = [g["status"] for g in gpus]
    if raw["errors"] or not gpus or "fail" in statuses:
        status = "fail"
    elif "informational" in statuses:
        status = "informational"
    else:
        status = "pass"
    run = raw["run"]
    return {
        "schema": SCHEMA,
        "host": run.get("host"),
        "started": run.get("started"),
        "finished": run.get("finished"),
        "driver": run.get("driver"),
        "min_fraction_of_peak": minimum,
        "status": status,
        "errors": raw["errors"] + ([{"message": "no GPU was measured"}] if not gpus else []),
        "gpus": gpus,
    }


def prom_number(x):
    """Plain decimal, shortest round-trip digits (the TS renderer writes the same)."""
    if isinstance(x, bool):
        return "1" if x else "0"
    d = Decimal(repr(float(x))).normalize()
    s = format(d, "f")
    return "0" if s in ("-0", "0") else s


def text_number(x):
    """Numbers in reason texts: the same digits as in the metrics; 'none' for a missing one."""
    return "none" if x is None else prom_number(x)


def prom_label(v):
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_prom(report):
    families = {}
    order = []

    def add(name, help_, labels, value):
        if name not in families:
            families[name] = (help_, [])
            order.append(name)
        lab = ",".join(f'{k}="{prom_label(v)}"' for k, v in labels.items())
        families[name][1].append(f"{name}{{{lab}}} {prom_number(value)}")

    p = "aihpc_gpu_acceptance_"
    for g in report["gpus"]:
        base = {"gpu": g["index"], "uuid": g["uuid"], "model": g["name"]}
        add(p + "passed", "1 when the GPU passed its acceptance checks (0: failed or informational only).", base, g["status"] == "pass")
        add(p + "spec_known", "1 when the GPU has a spec in gpu-specs.json (else figures are informational).", base, g["spec"] is not None)
        for m in g["measurements"]:
            lab = {**base, "measurement": m["name"]}
            metric, scale = UNIT_SCALE[m["unit"]]
            if m["value"] is not None:
                add(p + metric, HELP[metric], lab, math.floor(m["value"] * scale + 0.5))
            if m["peak"] is not None:
                add(p + "peak_" + metric, "The GPU's datasheet peak for this measurement.", lab, math.floor(m["peak"] * scale + 0.5))
            if m["fraction_of_peak"] is not None:
                add(p + "fraction_of_peak", "Measured rate over the datasheet peak.", lab, m["fraction_of_peak"])
            if m["min_fraction_of_peak"] is not None:
                add(p + "min_fraction_of_peak", "Fraction of peak this measurement must reach.", lab, m["min_fraction_of_peak"])
            add(p + "verified", "1 when the measured kernel's result was checked correct.", lab, m["verified"])
            add(p + "check_passed", "1 unless the measurement failed (wrong result, or below its minimum fraction).", lab, m["status"] != "fail")
        for c in g["comparisons"]:
            add(p + "comparison_ratio", "Suite figure over a reference figure measured in the same run.", {**base, "comparison": c["name"]}, c["ratio"])
    add(p + "errors", "Errors of the run (a program that crashed, output that did not parse).", {}, len(report["errors"]))
    add(p + "run_passed", "1 when the whole run passed.", {"status": report["status"]}, report["status"] == "pass")
    if report["finished"] is not None:
        add(p + "last_run_timestamp_seconds", "When the run finished (Unix time).", {}, report["finished"])
        if report["started"] is not None:
            add(p + "duration_seconds", "How long the run took.", {}, report["finished"] - report["started"])
    out = []
    for name in order:
        help_, samples = families[name]
        out.append(f"# HELP {name} {help_}")
        out.append(f"# TYPE {name} gauge")
        out.extend(samples)
    return "\n".join(out) + "\n"


def summary(report):
    lines = [f"GPU acceptance: {report['status'].upper()} on {report['host']}"]
    for e in report["errors"]:
        lines.append(f"  error: {e.get('message', e)}")
    for g in report["gpus"]:
        spec = g["spec"]["name"] if g["spec"] else "no spec"
        lines.append(f"GPU {g['index']} {g['name']} ({spec}): {g['status']}")
        lines.append(f"  {'measurement':<24}{'value':>12} {'unit':<8}{'peak':>9}{'of peak':>9}{'min':>6}  status")
        for m in g["measurements"]:
            val = "-" if m["value"] is None else f"{m['value']:.1f}"
            pk = "-" if m["peak"] is None else f"{m['peak']:g}"
            fr = "-" if m["fraction_of_peak"] is None else f"{m['fraction_of_peak']:.3f}"
            mn = "-" if m["min_fraction_of_peak"] is None else f"{m['min_fraction_of_peak']:g}"
            lines.append(f"  {m['name']:<24}{val:>12} {m['unit']:<8}{pk:>9}{fr:>9}{mn:>6}  {m['status']}")
        for c in g["comparisons"]:
            lines.append(f"  {c['name']}: {c['ratio']:.3f} (target {c['target']}: {'met' if c['meets_target'] else 'missed'})")
        for r in g["reasons"]:
            lines.append(f"  - {r}")
    return "\n".join(lines) + "\n"


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".aihpc-acceptance.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def fraction(text):
    """A minimum fraction of peak: a number in (0, 1], else None."""
    try:
        f = float(text)
    except ValueError:
        return None
    return f if 0 < f <= 1 else None


def read_conf(path):
    """Minimum fractions from the KEY=VALUE file the Pulumi program writes
    (python= is the runner's). Returns (minimums, problems)."""
    found, problems = {}, []
    with open(path) as f:
        for no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                problems.append(f"{path}:{no}: '{line}': expected KEY=VALUE")
            elif key in DEFAULT_MIN:
                if fraction(value) is None:
                    problems.append(f"{path}:{no}: {key}={value}: expected a fraction of peak in (0, 1]")
                else:
                    found[key] = fraction(value)
            elif key != "python":
                problems.append(f"{path}:{no}: unknown key '{key}' (one of {', '.join(DEFAULT_MIN)}, python)")
    return found, problems


def spec_problems(specs):
    """What would make the evaluation fail after the measurements: check it first."""
    problems = []
    if not isinstance(specs, dict) or not isinstance(specs.get("gpus"), list) or not isinstance(specs.get("measurements"), dict):
        return ["expected an object with 'gpus' (a list), 'measurements' and 'comparisons'"]
    for i, g in enumerate(specs["gpus"]):
        if not isinstance(g, dict) or not isinstance(g.get("names"), list) or not all(k in g for k in ("id", "name", "source")):
            problems.append(f"gpus[{i}]: expected id, name, source and names")
    for name, rule in specs["measurements"].items():
        if not isinstance(rule, dict) or "peak" not in rule or "threshold" not in rule:
            problems.append(f"measurements.{name}: expected peak and threshold")
        elif rule["threshold"] is not None and rule["threshold"] not in DEFAULT_MIN:
            problems.append(f"measurements.{name}: unknown threshold '{rule['threshold']}' (one of {', '.join(DEFAULT_MIN)})")
    for i, c in enumerate(specs.get("comparisons", [])):
        if not isinstance(c, dict) or not all(k in c for k in ("name", "measurement", "reference", "target")):
            problems.append(f"comparisons[{i}]: expected name, measurement, reference and target")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--specs", required=True)
    ap.add_argument("--conf", help="minimum fractions as KEY=VALUE lines (/etc/aihpc/gpu-acceptance.conf); --min overrides")
    ap.add_argument("--min", action="append", default=[], help="KEY=FRACTION (deviceBandwidth, hostDeviceBandwidth, gemm)")
    ap.add_argument("--json")
    ap.add_argument("--prom")
    ap.add_argument("--check", action="store_true", help="check the arguments, --conf and --specs, then exit: 0 valid, 2 not (the runner does this before measuring)")
    args = ap.parse_args()
    minimum = dict(DEFAULT_MIN)
    if args.conf:
        try:
            found, problems = read_conf(args.conf)
        except OSError as e:
            ap.error(f"--conf {args.conf}: {e.strerror}")
        if problems:
            ap.error("; ".join(problems))
        minimum.update(found)
    for kv in args.min:
        k, _, v = kv.partition("=")
        if k not in minimum:
            ap.error(f"--min {kv}: unknown key (one of {', '.join(minimum)})")
        if fraction(v) is None:
            ap.error(f"--min {kv}: expected a fraction in (0, 1]")
        minimum[k] = fraction(v)
    try:
        with open(args.specs) as f:
            specs = json.load(f)
    except (OSError, ValueError) as e:
        ap.error(f"--specs {args.specs}: {e}")
    problems = spec_problems(specs)
    if problems:
        ap.error(f"--specs {args.specs}: " + "; ".join(problems))
    for opt, path in (("--json", args.json), ("--prom", args.prom)):
        d = os.path.dirname(os.path.abspath(path)) if path else None
        if d and not (os.path.isdir(d) and os.access(d, os.W_OK)):
            ap.error(f"{opt} {path}: folder {d} does not exist or is not writable")
    if args.check:
        return 0
    report = evaluate(specs, minimum, parse_raw(sys.stdin.read()))
    if args.json:
        write_atomic(args.json, json.dumps(report, indent=2) + "\n")
    if args.prom:
        write_atomic(args.prom, render_prom(report))
    sys.stdout.write(summary(report))
    return 1 if report["status"] == "fail" else 0


if __name__ == "__main__":
    sys.exit(main())
