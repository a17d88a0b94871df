"""What spread would issue 14's yardstick show if the two test splits' faces were alike? (PublicTest evidence only.)

The judge is fitted on PublicTest and read on PrivateTest, so the measured spread of the per-expression medians
carries two samplings: the faces the curves were fitted on and the faces they are scored on. This simulates both
with no difference between the splits: each draw resamples the evidence's faces per class (with replacement, at
the evidence's own sizes) to fit each policy on, and independently resamples faces at the scoring sizes (e.g. FER+
PrivateTest's at `game_fairness.py --per-class 400`) to score on: the spread of the true-face medians on frames (b)
and on clear crops (c), and the worst false-reward rate (b). A measured spread inside this null's range is what
sampling alone gives; one in its tail is a difference between the splits (or a judge that fits badly).
`judge_policies.py --floor` is the same without the fitting draw (the curves fitted once on every face).
Usage: python benchmarks/judge_null.py EVIDENCE.npz --sizes 400,400,396,384,273,18,83,16 [--draws 500]
       [--leave-out disgust] [--policy NAME]...
"""

from __future__ import annotations

import argparse

import numpy as np
from judge_policies import OFF, POLICIES, WIN

from ferkit.infer.judge import fit_judge
from ferkit.infer.judge_fit import JudgeEvidence


def class_scores(judge, probabilities: np.ndarray, name: str) -> np.ndarray:
    """Round scores (as `JudgeCalibration.acting_score`, vectorised) of one expression's probabilities."""
    xs, ys = zip(*judge.knots[name])
    return np.minimum(100, np.round(np.interp(probabilities, xs, ys)))


def resample(labels: np.ndarray, sizes: list[int], rng: np.random.Generator) -> np.ndarray:
    """Row indices: `sizes[c]` faces of each class c, drawn with replacement."""
    return np.concatenate([rng.choice(np.flatnonzero(labels == c), n) for c, n in enumerate(sizes) if n])


def one_draw(ev: JudgeEvidence, clear: np.ndarray | None, policy, fit_sizes, score_sizes, rng) -> dict[str, float]:
    fit, score = resample(ev.labels, fit_sizes, rng), resample(ev.labels, score_sizes, rng)
    judge = fit_judge(
        ev.held[fit],
        ev.labels[fit],
        ev.class_names,
        "draw",
        ev.crops[fit],
        None if clear is None else clear[fit],
        policy,
    )
    out = {}
    played = [(c, n) for c, n in enumerate(ev.class_names) if n not in OFF and n in judge.knots]
    labels = ev.labels[score]
    for key, probabilities, keep in (
        ("b", ev.held[score], np.ones(len(score), bool)),
        ("c", ev.crops[score], None if clear is None else clear[score]),
    ):
        if keep is None:
            continue
        medians, false = [], []
        for c, name in played:
            s = class_scores(judge, probabilities[:, c], name)
            true = keep & (labels == c)
            if true.sum() >= 3:
                medians.append(float(np.median(s[true])))
            false.append(np.mean([(s[labels == k] >= WIN).mean() for k in np.unique(labels) if k != c]))
        out[f"{key}_spread"] = max(medians) - min(medians) if medians else np.nan  # nan: no clear faces drawn
        out[f"{key}_false"] = max(false)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evidence")
    parser.add_argument("--sizes", required=True, help="faces per class to score on (comma-separated, class order)")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--leave-out", nargs="*", default=[], help="more expressions to leave out of the spread")
    parser.add_argument("--policy", action="append", choices=list(POLICIES), help="default: every policy")
    args = parser.parse_args()
    OFF.extend(args.leave_out)
    ev = JudgeEvidence.load(args.evidence)
    clear = ev.clear()
    score_sizes = [int(n) for n in args.sizes.split(",")]
    if len(score_sizes) != len(ev.class_names):
        raise SystemExit(f"--sizes needs {len(ev.class_names)} numbers, one per class of {ev.class_names}")
    fit_sizes = [int((ev.labels == c).sum()) for c in range(len(ev.class_names))]
    print(f"{args.evidence}: fit on {fit_sizes}, score on {score_sizes} faces a class ({ev.class_names}); ")
    print(f"left out of the spread: {', '.join(OFF)}; {args.draws} draws. Median [5th-95th pct] and P(spread ≤ 10):")
    for title in args.policy or POLICIES:
        rng = np.random.default_rng(0)
        rows = [one_draw(ev, clear, POLICIES[title], fit_sizes, score_sizes, rng) for _ in range(args.draws)]
        b, c = np.array([r["b_spread"] for r in rows]), np.array([r.get("c_spread", np.nan) for r in rows])
        false = np.array([r["b_false"] for r in rows])
        print(
            f"  {title:34s} frames (b) {np.median(b):3.0f} [{np.quantile(b, 0.05):.0f}-{np.quantile(b, 0.95):.0f}]"
            f" ≤10: {(b <= 10).mean():4.0%}   clear crops (c) "
            + (f"{np.nanmedian(c):3.0f} ≤10: {(c <= 10).mean():4.0%}" if np.isfinite(c).any() else "  –")
            + f"   worst false reward {np.median(false):.1%} (95th pct {np.quantile(false, 0.95):.1%})"
        )


if __name__ == "__main__":
    main()
