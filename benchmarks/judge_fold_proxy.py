"""Are fold-models' poses a fair proxy for the full model's? Median true-class held probability per class.

Probe 10 (NOTES) fits the shipped model's judge curves on PublicTest plus fold-models' poses of the Training faces
each never saw. That is only fair if the fold-models are about as sure of faces as the full model: this compares,
on the PublicTest rows of each evidence file (the same faces and frames: calibrate-judge's fixed seed), the median
held probability of the true class per class. Contempt (off in the game) is printed but not checked.
Usage: python benchmarks/judge_fold_proxy.py FULL.npz FOLD0.npz [FOLD1.npz ...] [--limit 0.03]
"""

from __future__ import annotations

import argparse

import numpy as np

from ferkit.infer.judge_fit import JudgeEvidence

OFF = ("contempt",)


def true_class_medians(evidence: JudgeEvidence) -> np.ndarray:
    """Per class, the median held probability of the true class over the evidence's PublicTest faces."""
    own = np.ones(len(evidence.labels), bool) if evidence.unseen_training is None else ~evidence.unseen_training
    held, labels = evidence.held[own], evidence.labels[own]
    true_prob = held[np.arange(len(labels)), labels]
    return np.array([np.median(true_prob[labels == c]) for c in range(len(evidence.class_names))])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("full")
    parser.add_argument("folds", nargs="+")
    parser.add_argument("--limit", type=float, default=0.03, help="largest |full − mean of folds| on a played class")
    args = parser.parse_args()
    full = JudgeEvidence.load(args.full)
    folds = [JudgeEvidence.load(path) for path in args.folds]
    for path, fold in zip(args.folds, folds):
        if fold.class_names != full.class_names or len(fold.labels[~fold.unseen_training]) != len(full.labels):
            raise SystemExit(f"{path}: not the same PublicTest faces and classes as {args.full}")
    full_medians = true_class_medians(full)
    fold_medians = np.stack([true_class_medians(fold) for fold in folds])
    header = f"{'class':<10} {'full':>6} " + " ".join(f"{'fold' + str(k):>6}" for k in range(len(folds)))
    print(header + f" {'mean':>6} {'full−mean':>9}")
    worst = 0.0
    for c, name in enumerate(full.class_names):
        gap = full_medians[c] - fold_medians[:, c].mean()
        row = f"{name:<10} {full_medians[c]:6.3f} " + " ".join(f"{m:6.3f}" for m in fold_medians[:, c])
        played = name not in OFF
        print(row + f" {fold_medians[:, c].mean():6.3f} {gap:+9.3f}" + ("" if played else "  (not played)"))
        if played:
            worst = max(worst, abs(gap))
    verdict = "proxy holds" if worst <= args.limit else "proxy off: the probe stops"
    print(f"largest |full − mean of folds| on a played class: {worst:.3f} (limit {args.limit}): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
