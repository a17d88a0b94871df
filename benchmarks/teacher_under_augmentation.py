"""Is a teacher's soft label of the un-augmented face good enough for its augmented views?

Distillation from a teacher file stores one probability vector per face, computed on the plain face;
training then shows the student crops, flips, turns and erasures of it. This asks the teacher itself
(the shipped model by default) what it says about each augmented view and compares with the stored
label: top-1 agreement, total variation, and KL(view || stored), per augmentation policy — beside the
same figures for the FER2013 hard label, which is what training without a teacher uses for every view.

Usage: python benchmarks/teacher_under_augmentation.py [--model default] [--faces 3000] [--data ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from ferkit.data import load_faces
from ferkit.evaluate.predictors import load_predictor
from ferkit.labels import TRAIN_SPLIT
from ferkit.train.augment import augment_batch, get_policy

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fer2013.tar.gz"


def compare(stored: np.ndarray, view: np.ndarray) -> tuple[float, float, float]:
    """(top-1 agreement, mean total variation, mean KL(view || stored)) over faces."""
    agree = float((stored.argmax(1) == view.argmax(1)).mean())
    tv = float(0.5 * np.abs(stored - view).sum(1).mean())
    kl = float((view * (np.log(np.clip(view, 1e-8, 1)) - np.log(np.clip(stored, 1e-8, 1)))).sum(1).mean())
    return agree, tv, kl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--faces", type=int, default=3000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    teacher = load_predictor(args.model)
    train = load_faces(args.data).split(TRAIN_SPLIT)
    pick = np.random.default_rng(0).choice(len(train), size=min(args.faces, len(train)), replace=False)
    faces = np.ascontiguousarray(np.asarray(train.faces)[pick])
    labels = train.labels[pick].astype(np.int64)
    one_hot = np.eye(len(teacher.class_names), dtype=np.float32)[labels]
    stored = teacher.predict_proba(faces)
    print(f"teacher {teacher.description}; {len(faces):,} Training faces; stored = its label of the plain face")
    print(f"{'policy':8} {'label':6} {'top-1 agree':>11} {'TV':>6} {'KL':>6}")
    for policy_name in ("light", "strong"):
        policy = get_policy(policy_name).__class__(**{**vars(get_policy(policy_name)), "mix_p": 0.0})
        g = torch.Generator().manual_seed(0)
        x, _ = augment_batch(torch.from_numpy(faces).unsqueeze(1).float(), torch.from_numpy(one_hot), policy, g)
        views = np.clip(x.squeeze(1).round().numpy(), 0, 255).astype(np.uint8)
        view_probs = teacher.predict_proba(views)
        for name, label in (("teacher", stored), ("hard", one_hot)):
            agree, tv, kl = compare(np.clip(label, 1e-8, 1), view_probs)
            print(f"{policy_name:8} {name:6} {agree:11.4f} {tv:6.3f} {kl:6.3f}")


if __name__ == "__main__":
    main()
