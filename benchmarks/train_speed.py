"""Print training throughput (faces/s) of every registered model on this machine, and the achieved
GFLOP/s against this machine's measured matmul peak, both measured in this run.

Usage: python benchmarks/train_speed.py [--batch 128] [--steps 6] [--amp auto|bf16|off]
       python benchmarks/train_speed.py --models fer-vgg-s --batches 128,256,512 --layouts cl,nchw --compile
       (one model's speed per batch size, memory layout and with/without torch.compile)
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from ferkit.models import list_models
from ferkit.train.distributed import bf16_supported
from ferkit.train.speed import train_throughput


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 10) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(2):
        a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--amp", default="auto", choices=["auto", "bf16", "off"])
    parser.add_argument("--models", default="", help="comma-separated names (default: every registered model)")
    parser.add_argument("--batches", default="", help="comma-separated batch sizes (default: --batch)")
    parser.add_argument("--layouts", default="cl", help="cl (channels-last) and/or nchw, comma-separated")
    parser.add_argument("--compile", action="store_true", help="also time each setting under torch.compile")
    args = parser.parse_args()
    amp = args.amp == "bf16" or (args.amp == "auto" and bf16_supported(torch.device("cpu")))
    peak32 = matmul_peak(torch.float32)
    # Convolutions run in the autocast dtype, so the fair ceiling is that dtype's matmul peak.
    peak = matmul_peak(torch.bfloat16) if amp else peak32
    print(
        f"cores {os.cpu_count()}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"bf16 autocast {'on' if amp else 'off'}"
    )
    print(f"matmul peak: fp32 {peak32:.0f} GFLOP/s" + (f", bf16 {peak:.0f} GFLOP/s" if amp else ""))
    label = "of bf16 peak" if amp else "of fp32 peak"
    names = args.models.split(",") if args.models else [spec.name for spec in list_models()]
    batches = [int(b) for b in args.batches.split(",")] if args.batches else [args.batch]
    layouts = args.layouts.split(",")
    columns = ("batch", "layout", "compile", "faces/s", "s/epoch", "GFLOP/s")
    print(f"{'model':14s} " + " ".join(f"{c:>8s}" for c in columns) + f" {label:>12s}")
    for name in names:
        for batch in batches:
            for layout in layouts:
                for compiled in (False, True) if args.compile else (False,):
                    faces_per_s, gflops = train_throughput(
                        name, batch, args.steps, amp=amp, channels_last=layout == "cl", compile=compiled
                    )
                    print(
                        f"{name:14s} {batch:8d} {layout:>8s} {'yes' if compiled else 'no':>8s} {faces_per_s:8.0f} "
                        f"{28709 / faces_per_s:8.0f} {gflops:8.1f} {gflops / peak:12.0%}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
