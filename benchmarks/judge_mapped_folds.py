"""Probe 11: fold-models' out-of-fold poses, mapped onto the full model's probabilities, as more faces for its curves.

Probe 10 found fold-models (`--set hold_out=k/5`) less sure than the full model of some classes (happiness) and surer
of others (disgust), so their poses fitted curves that sit wrong for the full model. Here, in every PublicTest
halving, each fold-model's probabilities are mapped per class column onto the full model's by quantile matching,
fitted on the fitting half's PublicTest faces (unseen by both; the same faces and frames: calibrate-judge's fixed
seed), and the mapped out-of-fold rows join the fitting half. Scored, as `judge_policies.py`, on the other PublicTest
half under the game's policy; the first row is today's judge (PublicTest alone) on the same halvings.
Usage: python benchmarks/judge_mapped_folds.py FULL.npz FOLD0.npz ... [--halvings 40]
"""

from __future__ import annotations

import argparse

import numpy as np
from judge_policies import halves, measure

from ferkit.infer.judge import JudgePolicy, fit_judge
from ferkit.infer.judge_fit import JudgeEvidence

GAME_POLICY = JudgePolicy(true_above_bar=0.6)  # the shipped ferplus judge's policy (session 31)


def quantile_map(source: np.ndarray, target: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`values` moved from `source`'s distribution to `target`'s (a monotone map through matched quantiles)."""
    return np.interp(values, np.sort(source), np.sort(target))


def mapped_rows(full: JudgeEvidence, fold: JudgeEvidence, fit_half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fold-model's unseen-Training rows (held, crops), each class column mapped onto the full model's."""
    public, unseen = ~fold.unseen_training, fold.unseen_training
    held, crops = fold.held[unseen].copy(), fold.crops[unseen].copy()
    for c in range(len(full.class_names)):
        held[:, c] = quantile_map(fold.held[public][fit_half, c], full.held[fit_half, c], held[:, c])
        crops[:, c] = quantile_map(fold.crops[public][fit_half, c], full.crops[fit_half, c], crops[:, c])
    return held, crops


def summary(rows: list[dict[str, float]], cols: list[str]) -> str:
    cells = []
    for col in cols:
        values = np.array([r[col] for r in rows])
        tail = np.quantile(values, 0.1 if col.endswith("low") else 0.9)  # the bad tail
        fmt = "{:.1%} ({:.1%})" if col.endswith("false") else "{:.0f} ({:.0f})"
        cells.append(fmt.format(np.median(values), tail))
    return "  ".join(f"{c:>15s}" for c in cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("full")
    parser.add_argument("folds", nargs="+")
    parser.add_argument("--halvings", type=int, default=40)
    args = parser.parse_args()
    full = JudgeEvidence.load(args.full)
    folds = [JudgeEvidence.load(path) for path in args.folds]
    for path, fold in zip(args.folds, folds):
        same = fold.unseen_training is not None and np.array_equal(fold.labels[~fold.unseen_training], full.labels)
        if fold.class_names != full.class_names or not same:
            raise SystemExit(f"{path}: not a fold-model's evidence on the same PublicTest faces as {args.full}")
    clear = full.clear()
    cols = ["b_spread", "b_low", "b_false"] + (["c_spread", "c_low", "c_false"] if clear is not None else [])
    print(f"{args.full}: {len(full.labels)} PublicTest faces; + {sum(int(f.unseen_training.sum()) for f in folds)}")
    print("out-of-fold poses, mapped. Median (90th pct) over halvings of: " + ", ".join(cols))
    today, mapped = [], []
    rng = np.random.default_rng(0)
    for _ in range(args.halvings):
        fit, score = halves(full.labels, rng)
        judge = fit_judge(full.held[fit], full.labels[fit], full.class_names, "half", full.crops[fit],
                          None if clear is None else clear[fit], GAME_POLICY)  # fmt: skip
        today.append(measure(judge, full, score, clear))
        extra = [mapped_rows(full, fold, fit) for fold in folds]
        labels = np.concatenate([full.labels[fit]] + [f.labels[f.unseen_training] for f in folds])
        votes = [full.votes[fit]] + [f.votes[f.unseen_training] for f in folds] if full.votes is not None else None
        merged = JudgeEvidence(
            full.class_names,
            np.concatenate([full.held[fit]] + [held for held, _ in extra]),
            np.concatenate([full.crops[fit]] + [crops for _, crops in extra]),
            labels,
            None if votes is None else np.concatenate(votes),
        )
        merged_clear = merged.clear()
        judge = fit_judge(merged.held, merged.labels, full.class_names, "half + mapped", merged.crops, merged_clear,
                          GAME_POLICY)  # fmt: skip
        mapped.append(measure(judge, full, score, clear))
    print(f"  {'today (PublicTest alone)':34s} " + summary(today, cols))
    print(f"  {'+ mapped out-of-fold poses':34s} " + summary(mapped, cols))
    for title, rows in (("today", today), ("mapped", mapped)):
        names = [k.removeprefix("b_median_") for k in rows[0] if k.startswith("b_median_")]
        cells = [f"{n} {np.median([r[f'b_median_{n}'] for r in rows]):.0f}" for n in names]
        print(f"    {title}: frames (b) median true-face score per expression: " + ", ".join(cells))


if __name__ == "__main__":
    main()
