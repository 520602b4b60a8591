#!/usr/bin/env python3
"""PyTorch matmul check for the aihpc GPU acceptance suite.

Runs only where `import torch` works and sees a GPU (the ML runtime); prints
nothing and exits 0 otherwise, so the suite works without it. Prints the same
JSON lines as the CUDA programs: a bf16 N x N x N matmul (what most training
does), timed with CUDA events after warm-up (all repeats queued, one sync),
median of repeats, its result
checked on sampled rows against float64. The evaluator sets cuBLAS's bf16 GEMM
figure side by side with this one.

usage: torch_matmul.py [--device N] [--size N] [--warmup N] [--repeats N]
"""
import argparse
import json
import statistics
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", type=int, default=0)
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    try:
        import torch  # noqa: PLC0415 (optional dependency)
    except ImportError:
        return 0
    if not torch.cuda.is_available():
        return 0
    dev = torch.device("cuda", args.device)
    n = args.size
    gen = torch.Generator(device=dev)
    gen.seed()
    a = (torch.rand(n, n, device=dev, generator=gen) * 2 - 1).to(torch.bfloat16)
    b = (torch.rand(n, n, device=dev, generator=gen) * 2 - 1).to(torch.bfloat16)
    c = torch.full((n, n), float("nan"), device=dev, dtype=torch.bfloat16)
    for _ in range(args.warmup):
        torch.matmul(a, b, out=c)
    torch.cuda.synchronize(dev)
    # As the CUDA programs time (common.h time_events): every repeat queued
    # between its own pair of events, one synchronisation at the end. A sync
    # per repeat would time PyTorch's launch gap too (2-5% low on an H200).
    stream = torch.cuda.current_stream(dev)
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(args.repeats)]
    for start, end in events:
        start.record(stream)
        torch.matmul(a, b, out=c)
        end.record(stream)
    torch.cuda.synchronize(dev)
    times = [start.elapsed_time(end) for start, end in events]
    rows = torch.randint(0, n, (64,), device=dev, generator=gen)
    ref = a[rows].double() @ b.double()
    got = c[rows].double()
    nonfinite = int((~torch.isfinite(c)).sum().item())
    err = float(torch.linalg.norm(got - ref) / torch.linalg.norm(ref))
    tol = 1e-2
    median = statistics.median(times)
    flops = 2.0 * n * n * n
    print(json.dumps({
        "type": "measurement", "name": "torch_bf16", "value": flops / (median * 1e-3) / 1e12, "unit": "TFLOP/s",
        "median_ms": median, "min_ms": min(times), "max_ms": max(times), "repeats": args.repeats, "work": flops,
        "verified": nonfinite == 0 and err <= tol, "error": err if nonfinite == 0 else None, "tolerance": tol,
        "note": f"torch {torch.__version__} matmul bf16, N={n}; {nonfinite} non-finite; error = ||C-ref||/||ref|| on 64 sampled rows",
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
