"""Issue 14's yardstick on ~25,000 unseen faces: fold-models' judges, fitted on PublicTest, scored on their own folds.

FER+ PrivateTest has 18 disgust faces on frames, too few to tell a fair judge from an unfair one (`judge_null.py`).
The five fold-models of probe 10 (the `ferplus` recipe with `--set hold_out=k/5`) each posed the fifth of Training
it never saw, through the same webcam-like frames as PublicTest (`calibrate-judge --save-evidence`). Here each
fold-model's judge is fitted exactly as the shipped judge is, on its PublicTest rows only, and scored on its own
unseen fold: per expression the median round score of true faces on frames (b) and of clear crops (c, ≥ 7 of 10
votes), and the false-reward rate (other expressions' frames scoring ≥ 50, each expression weighing the same). The
folds are pooled (each face scored by the one model that never saw it) and bootstrapped over faces per class.
`--population-knots` (probe 15) also scores judges whose median and clear knots sit at the PublicTest quantiles where
the population's medians lie, estimated leave-one-fold-out: fold k's model gets the quantiles of the other folds'
models (`--also K:PATH`, another model of fold K, likewise), so no fold is scored with what it helped estimate.
Usage: python benchmarks/judge_fold_yardstick.py E0.npz ... E4.npz [--also 0:E0-seed1.npz] [--policy NAME]
       [--population-knots] [--boot 1000]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

import numpy as np
from judge_null import class_scores
from judge_policies import OFF, POLICIES, WIN

from ferkit.infer.judge import fit_judge
from ferkit.infer.judge_fit import JudgeEvidence, population_knots


@dataclass
class FoldScores:
    """Round scores of unseen faces on each played target: faces × targets, frames and crops."""

    held: np.ndarray
    crops: np.ndarray
    labels: np.ndarray
    clear: np.ndarray


def score_fold(ev: JudgeEvidence, policy) -> tuple[FoldScores, list[tuple[int, str]]]:
    """Fit the judge on the evidence's PublicTest rows; score its unseen Training rows."""
    if ev.unseen_training is None or not ev.unseen_training.any():
        raise SystemExit("evidence without unseen Training rows: pass a held-out-fold model's --save-evidence file")
    clear = ev.clear()
    fit, unseen = ~ev.unseen_training, ev.unseen_training
    judge = fit_judge(ev.held[fit], ev.labels[fit], ev.class_names, "PublicTest", ev.crops[fit], clear[fit], policy)
    played = [(c, n) for c, n in enumerate(ev.class_names) if n not in OFF and n in judge.knots]
    held = np.stack([class_scores(judge, ev.held[unseen, c], n) for c, n in played], 1)
    crops = np.stack([class_scores(judge, ev.crops[unseen, c], n) for c, n in played], 1)
    return FoldScores(held, crops, ev.labels[unseen], clear[unseen]), played


def summary(s: FoldScores, played: list[tuple[int, str]]) -> dict[str, np.ndarray | float]:
    """Per target: (b) median, (c) median, false-reward rate; and the two spreads and the worst false reward."""
    b, c, false = [], [], []
    for j, (k, _) in enumerate(played):
        true = s.labels == k
        b.append(np.median(s.held[true, j]))
        c.append(np.median(s.crops[true & s.clear, j]) if (true & s.clear).sum() >= 3 else np.nan)
        others = [o for o in np.unique(s.labels) if o != k]
        false.append(np.mean([(s.held[s.labels == o, j] >= WIN).mean() for o in others]))
    b, c, false = np.array(b), np.array(c), np.array(false)
    return {
        "b": b,
        "c": c,
        "false": false,
        "b_spread": float(b.max() - b.min()),
        "c_spread": float(np.nanmax(c) - np.nanmin(c)) if np.isfinite(c).any() else np.nan,  # nan: no clear faces
        "worst_false": float(false.max()),
    }


def bootstrap(s: FoldScores, played, draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Spreads over resamples of the faces, per class, with replacement."""
    out = {"b_spread": [], "c_spread": [], "worst_false": []}
    groups = [np.flatnonzero(s.labels == k) for k in np.unique(s.labels)]
    for _ in range(draws):
        rows = np.concatenate([rng.choice(g, len(g)) for g in groups])
        r = summary(FoldScores(s.held[rows], s.crops[rows], s.labels[rows], s.clear[rows]), played)
        for key in out:
            out[key].append(r[key])
    return {k: np.array(v) for k, v in out.items()}


def print_pooled(folds: list[FoldScores], played, title: str, boot_draws: int) -> None:
    """The per-class table and the spreads, with bootstrap intervals, of the folds pooled."""
    pooled = FoldScores(*(np.concatenate([getattr(f, k) for f in folds]) for k in ("held", "crops", "labels", "clear")))
    r = summary(pooled, played)
    boot = bootstrap(pooled, played, boot_draws, np.random.default_rng(0))
    print(f"\npooled over {len(folds)} folds, {title}; left out of the spread: {', '.join(OFF)}")
    print(f"{'':12s} {'true (b)':>9s} {'clear':>6s} {'(c)':>5s} {'frames':>7s} {'false':>7s}")
    for j, (k, name) in enumerate(played):
        true = pooled.labels == k
        print(
            f"{name:12s} {r['b'][j]:9.0f} {int((true & pooled.clear).sum()):6d} {r['c'][j]:5.0f} {int(true.sum()):7d}"
            f" {r['false'][j]:7.1%}"
        )
    for key, label in (("b_spread", "frames (b) spread"), ("c_spread", "clear crops (c) spread")):
        lo, hi = np.quantile(boot[key], [0.05, 0.95])
        within = (boot[key] <= 10).mean()
        print(f"{label}: {r[key]:g} (bootstrap 90% interval {lo:.0f}-{hi:.0f}; ≤ 10 in {within:.0%})")
    lo, hi = np.quantile(boot["worst_false"], [0.05, 0.95])
    print(f"worst false reward: {r['worst_false']:.1%} (90% interval {lo:.1%}-{hi:.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evidence", nargs="+", help="one held-out-fold model's evidence per fold, in fold order")
    parser.add_argument("--also", action="append", default=[], help="FOLD:PATH, another model of that fold")
    parser.add_argument("--policy", default="60% of true poses clear the bar", choices=list(POLICIES))
    parser.add_argument("--population-knots", action="store_true", help="also the probe 15 judge, leave-one-fold-out")
    parser.add_argument("--boot", type=int, default=1000)
    args = parser.parse_args()
    evidences = [JudgeEvidence.load(path) for path in args.evidence]
    models = [(k, path, ev) for k, (path, ev) in enumerate(zip(args.evidence, evidences))]
    for item in args.also:
        fold, _, path = item.partition(":")
        models.append((int(fold), path, JudgeEvidence.load(path)))
    base = POLICIES[args.policy]
    arms = {args.policy: lambda fold: base}
    if args.population_knots:
        others = {k: [ev for j, ev in enumerate(evidences) if j != k] for k in range(len(evidences))}
        knots = {k: population_knots(others[k], base.min_clear) for k in others}
        arms["population knots"] = lambda fold: replace(base, knot_quantiles=knots[fold])
        print("population quantiles (median held, median clear) from all folds:")
        for name, q, r in population_knots(evidences, base.min_clear):
            print(f"  {name:10s} {q:.3f} {r:.3f}")
    pooled, spreads, played = {arm: [] for arm in arms}, {arm: [] for arm in arms}, None
    for fold, path, ev in models:
        counts = None
        for arm, policy_of in arms.items():
            scores, played = score_fold(ev, policy_of(fold))
            r = summary(scores, played)
            if counts is None:
                counts = [int((scores.labels == k).sum()) for k, _ in played]
                print(f"{path} (fold {fold}): {len(scores.labels)} unseen faces {counts}")
            medians = " ".join(f"{v:3.0f}" for v in r["b"])
            print(
                f"  {arm[:24]:24s} (b) {medians}  spread {r['b_spread']:.0f}   (c) spread {r['c_spread']:.0f}", end=""
            )
            print(f"   worst false {r['worst_false']:.1%}")
            spreads[arm].append(r["b_spread"])
            if path in args.evidence:
                pooled[arm].append(scores)
    for arm in arms:
        per_model = ", ".join(f"{v:g}" for v in spreads[arm])
        print(f"\n{arm}: (b) spread per model {per_model}; median {np.median(spreads[arm]):g}")
        print_pooled(pooled[arm], played, f"policy {arm!r}", args.boot)


if __name__ == "__main__":
    main()
