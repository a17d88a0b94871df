"""What each registered net would cost to ship: ms per face at batch 1, fp32 and int8, on this CPU.

Untrained nets (BatchNorm statistics from random faces) cost what trained ones do: the graph and the
shapes decide the time, not the weights. Each is exported with ferkit's ONNX writer, quantised with
ferkit's int8 path (static QDQ, per channel; calibrated here on random faces, which is fine for timing
and meaningless for accuracy) and timed in the same onnxruntime session settings `ferkit predict` uses.
Issue 13's budget for the shipped single net is 1.2 ms per face at batch 1.

Usage: python benchmarks/net_latency.py [--models fer-vgg-s,fer-vgg-m] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from latency import latency_ms

from ferkit.export.common import random_faces
from ferkit.export.int8 import quantize_onnx
from ferkit.export.onnx_export import write_onnx
from ferkit.labels import EMOTIONS
from ferkit.models import create_model, multiply_adds
from ferkit.models.registry import MODELS


def untrained(name: str) -> torch.nn.Module:
    """The registered net with BatchNorm statistics of random faces, in eval mode."""
    torch.manual_seed(0)
    net = create_model(name, num_classes=len(EMOTIONS))
    net.train()
    with torch.no_grad():
        net(torch.from_numpy(random_faces(256)[:, None].astype(np.float32)))
    return net.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS.names()), help="comma-separated registered names")
    parser.add_argument("--repeats", type=int, default=3, help="timings per file; the fastest is printed")
    args = parser.parse_args()
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    print(f"{'model':14s} {'parameters':>11s} {'MMACs':>7s} {'fp32 ms':>8s} {'int8 ms':>8s}  (batch 1, one face)")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            net = untrained(name)
            fp32 = Path(tmp) / f"{name}.onnx"
            write_onnx(net, fp32, {"class_names": list(EMOTIONS), "model_name": name})
            int8 = quantize_onnx(fp32, Path(tmp) / f"{name}.int8.onnx", random_faces(256))
            fp32_ms = min(latency_ms(fp32, 1, 200) for _ in range(args.repeats))
            int8_ms = min(latency_ms(int8, 1, 200) for _ in range(args.repeats))
            parameters = sum(p.numel() for p in net.parameters())
            macs = multiply_adds(net) / 1e6
            print(f"{name:14s} {parameters:>11,} {macs:>7.1f} {fp32_ms:>8.2f} {int8_ms:>8.2f}")


if __name__ == "__main__":
    main()
