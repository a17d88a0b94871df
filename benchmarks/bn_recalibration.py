"""Probe 12: do BN statistics recomputed on clean Training faces help a trained net? (PublicTest only.)

Training leaves each BN layer's running statistics as averages over augmented batches under the live weights
(EMA-averaged with the weights); the net is then evaluated on clean faces. This recomputes them with the eval
weights (EMA where the run kept them) in one no-grad pass over the un-augmented Training faces (batches of
--batch, a cumulative average: SWA's `update_bn` step) and prints each checkpoint's PublicTest accuracy before
and after, paired on the same faces. Session 36: it hurts (NOTES, probe 12).
Usage: python benchmarks/bn_recalibration.py RUN/best.pt... [--data fer2013.tar.gz] [--batch 128]
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ferkit.data import load_faces
from ferkit.labels import SELECT_SPLIT, TRAIN_SPLIT
from ferkit.models.checkpoint import load_checkpoint, model_from_checkpoint
from ferkit.models.predict import predict_logits

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013.tar.gz"


def accuracy(model: nn.Module, faces: np.ndarray, labels: np.ndarray) -> float:
    return float((predict_logits(model, faces).argmax(1).numpy() == labels).mean() * 100)


@torch.no_grad()
def recalibrated(model: nn.Module, faces: np.ndarray, batch: int, seed: int = 0) -> nn.Module:
    """A copy of `model` whose BN running statistics are the plain average over `faces` (shuffled batches)."""
    copied = copy.deepcopy(model)
    for module in copied.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # None: a cumulative average over every batch, not an EMA
    copied.train()
    shuffled = torch.as_tensor(faces[np.random.default_rng(seed).permutation(len(faces))])
    for start in range(0, len(shuffled), batch):
        copied(shuffled[start : start + batch].unsqueeze(1).float())
    return copied.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--batch", type=int, default=128, help="the training recipes' batch size")
    args = parser.parse_args()
    dataset = load_faces(args.data)
    train, select = dataset.split(TRAIN_SPLIT), dataset.split(SELECT_SPLIT)
    changes = []
    for path in args.checkpoints:
        state = load_checkpoint(path)
        model = model_from_checkpoint(state)
        started = time.perf_counter()
        after = accuracy(recalibrated(model, train.faces, args.batch), select.faces, select.labels)
        before = accuracy(model, select.faces, select.labels)
        changes.append(after - before)
        print(
            f"{path}  epoch {state['epoch']}  {SELECT_SPLIT} {before:.2f} -> {after:.2f} ({after - before:+.2f})"
            f"  ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    print(f"mean change {np.mean(changes):+.2f}; positive in {sum(c > 0 for c in changes)} of {len(changes)}")


if __name__ == "__main__":
    main()
