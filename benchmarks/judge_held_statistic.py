"""Is the lowest of a held pose's frames the right thing to score? The statistic compared on PublicTest only.

A round scores the best run of 3 frames by the run's lowest target probability (`game/rules.py
RoundScorer`). A median, mean or geometric mean of the 3 frames forgives one bad frame (a blink, a
detector wobble), which might make the frame medians of issue 14 (b) more even. Each statistic is given
the shipped curve policy and judged as `judge_policies.py` judges policies: fitted on a random half of the
PublicTest faces and scored on the other half, 40 times (median and 90th percentile over the halvings).
The frames are made exactly as `ferkit calibrate-judge` makes them (seed 1), so "lowest" reproduces the
shipped evidence file; they are kept in --frames (3,199 faces × 3 frames: ~5 min to make here).
Usage: python benchmarks/judge_held_statistic.py [--model ferplus] [--frames runs/ferplus-frames.npz]
       [--evidence docs/results/judge_evidence/ferplus-publictest.npz] [--data ...] [--ferplus ...]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
from judge_policies import BASE, halves, measure

from ferkit.data import load_faces, split_with_votes
from ferkit.infer import Recognizer
from ferkit.infer.judge import fit_judge
from ferkit.infer.judge_fit import JudgeEvidence
from ferkit.labels import SELECT_SPLIT
from ferkit.vision.webcam import frame_probabilities

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HOLD = 3
STATISTICS = {
    "lowest (today)": lambda frames: frames.min(1),
    "median": lambda frames: np.median(frames, 1),
    "mean": lambda frames: frames.mean(1),
    "geometric mean": lambda frames: np.exp(np.log(np.maximum(frames, 1e-6)).mean(1)),
}


def held_frames(model: str, data: Path, ferplus: Path) -> np.ndarray:
    """faces × frames × classes, in the order and with the random frames of `collect_evidence` (seed 1)."""
    recognizer = Recognizer(model)
    faces, _, _ = split_with_votes(load_faces(data, ferplus=ferplus), SELECT_SPLIT, recognizer.class_names)
    rng = np.random.default_rng(1)
    return np.stack([frame_probabilities(recognizer, face, rng, HOLD) for face in faces])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ferplus")
    parser.add_argument("--evidence", type=Path, default=ROOT / "docs/results/judge_evidence/ferplus-publictest.npz")
    parser.add_argument("--frames", type=Path, default=ROOT / "runs/ferplus-frames.npz", help="made once, then read")
    parser.add_argument("--data", type=Path, default=DATA / "fer2013.tar.gz")
    parser.add_argument("--ferplus", type=Path, default=DATA / "fer2013new.csv")
    parser.add_argument("--halvings", type=int, default=40)
    args = parser.parse_args()
    evidence = JudgeEvidence.load(args.evidence)
    if not args.frames.exists():
        args.frames.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.frames, frames=held_frames(args.model, args.data, args.ferplus))
    frames = np.load(args.frames)["frames"]
    if frames.shape[0] != len(evidence.labels):
        raise SystemExit(f"{args.frames}: {frames.shape[0]} faces, {args.evidence}: {len(evidence.labels)}")
    same = np.array_equal(frames.min(1), evidence.held)
    print(f"{args.model}: {len(frames)} PublicTest faces × {HOLD} frames; lowest = the evidence file's: {same}")
    print("median (90th pct) over halvings: frames' spread, lowest median, worst false; clear crops' spread")
    clear = evidence.clear()
    for title, statistic in STATISTICS.items():
        ev = replace(evidence, held=statistic(frames))
        rng = np.random.default_rng(0)
        rows = []
        for _ in range(args.halvings):
            fit, score = halves(ev.labels, rng)
            part = None if clear is None else clear[fit]
            judge = fit_judge(ev.held[fit], ev.labels[fit], ev.class_names, "half", ev.crops[fit], part, BASE)
            rows.append(measure(judge, ev, score, clear))
        cells = []
        for col in ("b_spread", "b_low", "b_false", "c_spread"):
            values = np.array([r[col] for r in rows])
            tail = np.quantile(values, 0.1 if col.endswith("low") else 0.9)
            fmt = "{:.1%} ({:.1%})" if col.endswith("false") else "{:.0f} ({:.0f})"
            cells.append(fmt.format(np.median(values), tail))
        judge = ev.fit(BASE)
        above = [
            f"{name} {(ev.held[ev.labels == c, c] > judge.knots[name][1][0]).mean():.0%}"
            for c, name in enumerate(ev.class_names)
            if name in judge.knots
        ]
        print(f"  {title:15s} " + "  ".join(f"{c:>15s}" for c in cells))
        print(f"  {'':15s} true held poses above the bar: " + ", ".join(above))


if __name__ == "__main__":
    main()
