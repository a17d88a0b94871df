"""Can every Best Actor round be won? Round scores that true faces of each expression earn, and false rewards.

For each expression: the median and 90th percentile of the round score (exactly what `RoundScorer`
awards for 3 held frames) that true faces of that class earn when it is the target, and the false-reward
rate: how often a face of another class scores ≥ 50 on that target (neutral faces reported apart).
Three sets of faces:
  (a) PublicTest crops, as the classifier sees dataset faces (3 identical frames);
  (b) PublicTest faces in webcam-like 640×480 frames through the whole pipeline (MTCNN, crop,
      classifier): each of the 3 frames framed, lit, blurred and JPEG-compressed differently;
  (c) FER+ PublicTest faces whose 10 annotators agree strongly (≥ 7 votes for one class): the
      clearest, most posed-like faces the data has.
A FER+ model (8 classes) is scored in its own classes, true class = the FER+ majority vote (contempt in
(b) only where a split has ≥ 5 such faces). The judge curves are fitted on PublicTest frames
(`ferkit calibrate-judge`); `--split PrivateTest` checks them on faces they never saw. `--raw` scores
with the raw probability, as before the curves existed.
Each median comes with a bootstrap 90% interval (true faces resampled 2,000 times), and each set with the
spread of its medians (highest − lowest, the contempt round left out as the game does by default) and that
spread's interval: with 60 faces a class (18 disgust faces in FER+ PrivateTest) a median moves by several
points, so issue 14's "medians within 10 points" is read against the interval, not the point. (The
resampled spread leans high: the largest of several noisy medians overshoots. Its interval is a cautious one.)
`--evidence E.npz` (what `ferkit calibrate-judge --save-evidence` kept for this model) adds the floor of set (b): the
model's own curves scored on samples of E's faces at (b)'s sizes — the spread that sampling alone gives, to read
the measured one against (session 31: with 18 disgust faces even a perfectly fitted judge is within 10 only about
half the time).
Usage: python benchmarks/game_fairness.py [--model default|file.onnx] [--split PublicTest|PrivateTest]
       [--raw] [--per-class 60] [--json out.json] [--evidence E.npz]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ferkit.data import load_faces, split_with_labels
from ferkit.game.rules import RoundScorer
from ferkit.infer import Recognizer
from ferkit.infer.judge_fit import JudgeEvidence
from ferkit.labels import EMOTIONS, FERPLUS_EMOTIONS, FERPLUS_TO_FER2013
from ferkit.vision.webcam import frame_probabilities

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HOLD = 3
WIN = 50  # a score a player would call a win; a false reward is a wrong face reaching it
RESAMPLES = 2000
OFF_BY_DEFAULT = ("contempt",)  # rounds the game leaves out unless asked (ServerSettings.contempt_rounds)


def median_intervals(true_scores: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[dict, list[float]]:
    """Per class the bootstrap 90% interval of its median; and the resampled spreads (max − min median)."""
    resampled = {
        name: np.median(scores[rng.integers(0, len(scores), (RESAMPLES, len(scores)))], axis=1)
        for name, scores in true_scores.items()
    }
    intervals = {name: [float(v) for v in np.percentile(m, [5, 95])] for name, m in resampled.items()}
    played = np.stack([m for name, m in resampled.items() if name not in OFF_BY_DEFAULT])
    return intervals, list(played.max(0) - played.min(0))


def round_score(held_probabilities: np.ndarray, target: str, judge) -> int:
    scorer = RoundScorer(target, judge=judge)
    for p in held_probabilities:
        scorer.add(float(p), False)
    return scorer.score


def table(held: np.ndarray, labels: np.ndarray, title: str, judge, class_names: tuple[str, ...]) -> dict:
    """held: faces × classes × HOLD probabilities. Per target: true-face scores, false-reward rates."""
    print(f"\n{title}: {len(labels)} faces")
    print(
        f"{'target':9s} {'n':>5s} {'median':>7s} {'90% interval':>13s} {'p90':>5s} {'false≥50':>9s} {'neutral≥50':>11s}"
    )
    neutral = class_names.index("neutral")
    rows, true_scores = {}, {}
    for c, target in enumerate(class_names):
        scores = np.array([round_score(held[i, c], target, judge) for i in range(len(labels))])
        true, other = scores[labels == c], scores[labels != c]
        neutral_faces = scores[labels == neutral] if c != neutral else np.empty(0)
        row = {
            "n": len(true),
            "median": float(np.median(true)) if len(true) else None,
            "p90": float(np.percentile(true, 90)) if len(true) else None,
            "false_reward": float((other >= WIN).mean()),
            "neutral_false_reward": float((neutral_faces >= WIN).mean()) if len(neutral_faces) else None,
        }
        rows[target] = row
        if len(true):
            true_scores[target] = true
    intervals, spreads = median_intervals(true_scores, np.random.default_rng(0))
    for target, row in rows.items():
        row["median_interval_90"] = intervals.get(target)
        med = f"{row['median']:7.0f}" if row["median"] is not None else "      -"
        band = (
            f"{row['median_interval_90'][0]:6.0f}-{row['median_interval_90'][1]:<6.0f}"
            if target in intervals
            else " " * 13
        )
        p90 = f"{row['p90']:5.0f}" if row["p90"] is not None else "    -"
        neu = f"{row['neutral_false_reward']:11.1%}" if row["neutral_false_reward"] is not None else "          -"
        print(f"{target:9s} {row['n']:5d} {med} {band} {p90} {row['false_reward']:9.1%} {neu}")
    medians = [row["median"] for t, row in rows.items() if t in true_scores and t not in OFF_BY_DEFAULT]
    spread = max(medians) - min(medians)
    low, high = np.percentile(spreads, [5, 95])
    print(f"spread of the played rounds' medians: {spread:.0f} (bootstrap 90% interval {low:.0f}-{high:.0f})")
    return {"targets": rows, "median_spread": spread, "median_spread_interval_90": [float(low), float(high)]}


def clear_ferplus_faces(part, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Faces whose FER+ annotators agree strongly (≥ 7 of 10 on one emotion), labelled in `names`' order."""
    votes = part.votes
    top = votes[:, :8].argmax(1)
    if names == FERPLUS_EMOTIONS:
        labels = top
    else:
        labels = np.array([-1 if FERPLUS_TO_FER2013[int(t)] is None else FERPLUS_TO_FER2013[int(t)] for t in top])
    clear = (votes[:, :8].max(1) >= 7) & (labels >= 0)
    return np.asarray(part.faces)[clear], labels[clear]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    parser.add_argument("--data", type=Path, default=DATA / "fer2013.tar.gz")
    parser.add_argument("--ferplus", type=Path, default=DATA / "fer2013new.csv")
    parser.add_argument("--per-class", type=int, default=60, help="faces per class in the pipeline set (b)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--split", default="PublicTest", choices=["PublicTest", "PrivateTest"])
    parser.add_argument("--raw", action="store_true", help="ignore the model's judge curves (raw probability)")
    parser.add_argument("--evidence", type=Path, default=None, help="the model's judge evidence: print (b)'s floor")
    args = parser.parse_args()
    recognizer = Recognizer(args.model)
    names = tuple(recognizer.class_names)
    if names not in (EMOTIONS, FERPLUS_EMOTIONS):
        raise SystemExit(f"this benchmark scores FER2013's or FER+'s classes; the model has {names}")
    if args.raw:
        recognizer.judge = None
    dataset = load_faces(args.data, ferplus=args.ferplus)
    # true classes in the model's own label space: FER2013's labels, or the FER+ majority vote
    faces, labels = split_with_labels(dataset, args.split, names)
    results = {"model": str(args.model), "split": args.split, "judge": recognizer.judge is not None}
    print(f"model {args.model}, split {args.split}, judge curves: {'yes' if recognizer.judge else 'no (raw)'}")

    probs = recognizer.predict_faces(faces)  # (a): a held pose of a dataset crop is the crop 3 times
    crops_held = np.repeat(probs[:, :, None], HOLD, axis=2)
    results["a_crops"] = table(crops_held, labels, f"(a) {args.split} crops", recognizer.judge, names)

    rng = np.random.default_rng(0)
    classes = [c for c in range(len(names)) if (labels == c).sum() >= 5]  # FER+ PublicTest has few contempt
    picked = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[: args.per_class] for c in classes])
    held = np.stack([frame_probabilities(recognizer, faces[i], rng, HOLD).T for i in picked])
    title = f"(b) {args.split} faces in webcam-like frames, full pipeline"
    results["b_webcam"] = table(held, labels[picked], title, recognizer.judge, names)
    if args.evidence is not None and recognizer.judge is not None:
        from judge_policies import floor  # benchmarks/ is the script's own folder

        sizes = [int((labels[picked] == c).sum()) for c in range(len(names))]
        spreads = floor(JudgeEvidence.load(args.evidence), sizes, judge=recognizer.judge)
        results["b_webcam"]["floor_spread_within_10"] = float((spreads <= 10).mean())
        results["b_webcam"]["floor_spread_median"] = float(np.median(spreads))

    clear_faces, clear_labels = clear_ferplus_faces(dataset.split(args.split), names)
    results["c_ferplus_clear"] = table(
        np.repeat(recognizer.predict_faces(clear_faces)[:, :, None], HOLD, axis=2),
        clear_labels,
        f"(c) FER+ {args.split}, ≥ 7 of 10 votes agree",
        recognizer.judge,
        names,
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
