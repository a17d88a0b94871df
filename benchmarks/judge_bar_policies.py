"""How should a judge curve's win bar be set? Policies compared on PublicTest only (never PrivateTest).

For each model: 80 PublicTest faces a class held for 3 webcam-like frames through the whole pipeline, and
every PublicTest face as a plain crop. Curves are fitted on half of the framed faces (even positions) and
scored on the other half; false rewards are also counted on all the plain crops. Policies: the bar at a
false-reward rate on frames alone, or the higher of the frames' bar and the crops' bar.
Session 9's study (it runs the pipeline: ~10 min a model); `benchmarks/judge_policies.py` compares later
policies in seconds from the evidence `ferkit calibrate-judge --save-evidence` keeps.
Usage: python benchmarks/judge_bar_policies.py [--models default ferplus]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ferkit.data import load_faces, split_with_labels
from ferkit.infer import Recognizer
from ferkit.infer import judge as judge_module
from ferkit.labels import FERPLUS_EMOTIONS, SELECT_SPLIT
from ferkit.vision.webcam import frame_probabilities

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
POLICIES = ((0.08, None), (0.06, None), (0.06, 0.06), (0.06, 0.10))  # (frames' rate, crops' rate or None)


def held_and_crops(model: str, seed: int = 5, per_class: int = 80):
    recognizer = Recognizer(model)
    names = recognizer.class_names
    ferplus = DATA / "fer2013new.csv" if names == FERPLUS_EMOTIONS else None
    faces, labels = split_with_labels(load_faces(DATA / "fer2013.tar.gz", ferplus=ferplus), SELECT_SPLIT, names)
    rng = np.random.default_rng(seed)
    classes = [c for c in range(len(names)) if (labels == c).sum() >= 5]
    picked = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in classes])
    held = np.stack([frame_probabilities(recognizer, faces[i], rng, 3).min(0) for i in picked])
    return names, held, labels[picked], recognizer.predict_faces(np.asarray(faces)), labels


def fitted(names, held, held_labels, crops, crop_labels, frames_rate: float, crops_rate: float | None):
    """fit_judge with the frames' rate, its bar raised to the crops' bar at `crops_rate` when given."""
    frames_only = judge_module.JudgePolicy(false_reward_rate=frames_rate, bar_on_crops=False, clear_score=None)
    base = judge_module.fit_judge(held, held_labels, names, "policy", policy=frames_only)
    if crops_rate is None:
        return base
    knots = {}
    for c, name in enumerate(names):
        if name not in base.knots:
            continue
        other = crop_labels != c
        crops_bar = judge_module._balanced_quantile(crops[other, c], crop_labels[other], 1 - crops_rate)
        bar = max(base.knots[name][1][0], crops_bar)
        true = held[held_labels == c, c]
        points = [(0.0, 0.0), (bar, judge_module.WIN_SCORE)]
        median, top = float(np.median(true)), float(np.quantile(true, 0.9))
        if median > bar:
            points.append((median, judge_module.MEDIAN_SCORE))
        if top > points[-1][0]:
            points.append((top, judge_module.TOP_SCORE))
        points.append((1.0, 100.0))
        knots[name] = tuple(judge_module._strictly_increasing(points))
    return judge_module.JudgeCalibration(knots)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["default", "ferplus"])
    args = parser.parse_args()
    for model in args.models:
        names, held, held_labels, crops, crop_labels = held_and_crops(model)
        fit_half = np.arange(len(held_labels)) % 2 == 0
        print(f"\n{model} (contempt left out of the figures: its rounds are off by default)")
        for frames_rate, crops_rate in POLICIES:
            judge = fitted(names, held[fit_half], held_labels[fit_half], crops, crop_labels, frames_rate, crops_rate)
            medians, frame_false, crop_false = [], [], []
            for c, name in enumerate(names):
                if name not in judge.knots or name == "contempt":
                    continue
                scores = np.array([judge.score(name, p) for p in held[~fit_half, c]])
                true = held_labels[~fit_half] == c
                medians.append(np.median(scores[true]))
                frame_false.append((scores[~true] >= judge_module.WIN_SCORE).mean())
                crop_scores = np.array([judge.score(name, p) for p in crops[:, c]])
                crop_false.append((crop_scores[crop_labels != c] >= judge_module.WIN_SCORE).mean())
            label = f"frames {frames_rate:.0%}" + (f", crops {crops_rate:.0%}" if crops_rate else ", frames only")
            print(
                f"  {label:22s} frame medians {min(medians):3.0f}-{max(medians):3.0f}  "
                f"frame false ≤ {max(frame_false):5.1%}  crop false ≤ {max(crop_false):5.1%}"
            )


if __name__ == "__main__":
    main()
