"""Do PublicTest's and PrivateTest's faces of one expression score differently, beyond sampling? (plain crops)

Issue 14's judge is fitted on PublicTest and read on PrivateTest; a class whose PrivateTest median moved could
hold other faces, or the same kind of faces sampled again through a steep curve. Per expression of a model with
judge curves: the median round score of its true faces as plain crops (the FER+ majority for a FER+ model) on each
split, and a permutation test of the difference (the split labels of the pooled faces shuffled): the 95% band
of differences sampling alone gives and the two-sided p-value. Crops, not frames, so no webcam frames are drawn
(session 33: crops → frames costs both splits alike). Reading PrivateTest here chooses nothing.
Usage: python benchmarks/split_shift.py [--model ferplus] [--permutations 4000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ferkit.data import load_faces, split_with_votes
from ferkit.infer import Recognizer
from ferkit.labels import REPORT_SPLIT, SELECT_SPLIT

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ferplus")
    parser.add_argument("--data", type=Path, default=DATA / "fer2013.tar.gz")
    parser.add_argument("--ferplus", type=Path, default=DATA / "fer2013new.csv")
    parser.add_argument("--permutations", type=int, default=4000)
    args = parser.parse_args()
    recognizer = Recognizer(args.model)
    if recognizer.judge is None:
        raise SystemExit(f"{args.model} has no judge curves (ferkit calibrate-judge)")
    names = tuple(recognizer.class_names)
    dataset = load_faces(args.data, ferplus=args.ferplus)
    scored = {}
    for split in (SELECT_SPLIT, REPORT_SPLIT):
        faces, labels, _ = split_with_votes(dataset, split, names)
        probabilities = recognizer.predict_faces(faces)
        scored[split] = [
            np.array([recognizer.judge.acting_score(name, p) for p in probabilities[labels == c, c]])
            for c, name in enumerate(names)
        ]
    rng = np.random.default_rng(0)
    print(f"{args.model}: median round score of true plain crops, {SELECT_SPLIT} → {REPORT_SPLIT}")
    for c, name in enumerate(names):
        select, report = scored[SELECT_SPLIT][c], scored[REPORT_SPLIT][c]
        if min(len(select), len(report)) < 3:
            continue
        shift = np.median(report) - np.median(select)
        pooled = np.concatenate([select, report])
        null = np.empty(args.permutations)
        for k in range(args.permutations):
            shuffled = rng.permutation(pooled)
            null[k] = np.median(shuffled[len(select) :]) - np.median(shuffled[: len(select)])
        p_value = float((np.abs(null) >= abs(shift)).mean())
        print(
            f"  {name:10s} n {len(select):4d} / {len(report):4d}   {np.median(select):5.1f} → {np.median(report):5.1f}"
            f" ({shift:+5.1f})   sampling alone: ±{np.quantile(np.abs(null), 0.95):4.1f} (95%)   p = {p_value:.3f}"
        )


if __name__ == "__main__":
    main()
