"""How should judge curves be placed? Policies compared on PublicTest evidence only (never PrivateTest).

Reads what `ferkit calibrate-judge --save-evidence` kept (every PublicTest face held for 3 webcam-like
frames through the whole pipeline, and as a plain crop) and, for many random halvings of the faces, fits
each policy on one half and scores the other: per played expression the median true-face round score on
frames (set (b)) and on the FER+ clear crops (set (c), ≥ 7 of 10 votes for the true class), and the
false-reward rate (other expressions' faces scoring ≥ 50, each expression weighing the same). Printed: the
spread of the medians (highest − lowest) and the worst false-reward rate, median and 90th percentile over
the halvings — a policy is robust when its 90th percentile still meets issue 14's targets (spread ≤ 10,
false ≤ 10%). Contempt (off in the game by default) is left out.
`--average` screens an ensemble judge without new frames: the files' probabilities (same faces, same
frames: calibrate-judge's fixed seed) are averaged into one evidence. A proxy only: it averages each net's
lowest held probability, where an ensemble would take the lowest of the averaged frames.
Evidence of a model that held out a Training fold (`--set hold_out=k/K`) holds that fold's faces too: they join
every fitting half (`--publictest-only` leaves them out); the halvings and the scoring halves are PublicTest's alone,
the same as for a model without them, so two such files compare on the same faces.
`--floor N,N,...` (faces per class, in the model's class order): the spread a judge fitted on *all* the evidence
would show on fresh samples of those sizes drawn from the same faces — the yardstick's own noise at a split's
sizes (e.g. FER+ PrivateTest's at `game_fairness.py --per-class 400`), with the judge's fitting noise taken out;
with `--model M`, M's own curves instead (on the evidence they were fitted on: the same, for whatever policy).
Usage: python benchmarks/judge_policies.py EVIDENCE.npz... [--halvings 40] [--average] [--leave-out disgust]
       [--pool] [--publictest-only] [--per-class] [--floor 400,400,396,384,273,18,83,16 [--model M]]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from ferkit.infer import Recognizer
from ferkit.infer.judge import JudgePolicy, fit_judge
from ferkit.infer.judge_fit import JudgeEvidence

BASE = JudgePolicy()  # what `ferkit calibrate-judge` fits by default (the `default` model's judge)
GAME = replace(BASE, true_above_bar=0.6)  # the game's `ferplus` judge since session 31 (`--true-above-bar 0.6`)
POLICIES = {
    "session 9 (no clear knot)": replace(BASE, clear_score=None),
    "clear crops → 85 (today)": BASE,
    "clear crops → 80": replace(BASE, clear_score=80.0),
    "median knot at q0.40": replace(BASE, median_quantile=0.4),
    "median ≥ 0.05 from the bar": replace(BASE, min_gap=0.05),
    "small classes weigh n/30": replace(BASE, full_weight_faces=30),
    "bar at 8%": replace(BASE, false_reward_rate=0.08),
    "60% of true poses clear the bar": GAME,
    "game + plateau q0.3/q0.7 → 60/70": replace(GAME, plateau=(0.3, 0.7)),
    "game + plateau, clear knot first": replace(GAME, plateau=(0.3, 0.7), clear_first=True),
}
WIN = 50
OFF = ["contempt"]  # expressions left out of the spread (`--leave-out` adds more)


def halves(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A stratified random halving: every class split evenly between the fitting half and the scoring half."""
    fit = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        fit[members[: len(members) // 2]] = True
    return fit, ~fit


def split_faces(
    ev: JudgeEvidence, rng: np.random.Generator, unseen: bool, pool: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """A halving of the PublicTest faces; faces of the Training fold the model never saw join every fitting
    half (`unseen`), so the scoring half is the same PublicTest half as for a model without such faces.
    `pool`: PublicTest and the unseen faces halved together, so that the scoring halves hold more faces of
    the small classes (steadier medians; not comparable with a model without unseen faces)."""
    if pool:
        return halves(ev.labels, rng)
    public = ~ev.unseen_training if ev.unseen_training is not None else np.ones(len(ev.labels), bool)
    fit_half, score_half = halves(ev.labels[public], rng)
    fit, score = np.zeros(len(ev.labels), bool), np.zeros(len(ev.labels), bool)
    fit[np.flatnonzero(public)[fit_half]] = True
    score[np.flatnonzero(public)[score_half]] = True
    if unseen:
        fit |= ~public
    return fit, score


def scores_of(judge, probabilities: np.ndarray, c: int, name: str) -> np.ndarray:
    return np.array([judge.acting_score(name, p) for p in probabilities[:, c]])


def measure(judge, ev: JudgeEvidence, part: np.ndarray, clear: np.ndarray | None) -> dict[str, float]:
    """Spread of true-face medians and worst balanced false-reward rate on frames (b) and clear crops (c)."""
    out = {}
    sets = {"b": (ev.held, part)}
    if clear is not None:
        sets["c"] = (ev.crops, part & clear)
    for key, (probabilities, mask) in sets.items():
        medians, false = [], []
        for c, name in enumerate(ev.class_names):
            if name in OFF or name not in judge.knots:
                continue
            s = scores_of(judge, probabilities[mask], c, name)
            labels = ev.labels[mask]
            if (labels == c).sum() >= 3:
                medians.append(float(np.median(s[labels == c])))
                out[f"{key}_median_{name}"] = medians[-1]
            others = [(s[labels == k] >= WIN).mean() for k in np.unique(labels) if k != c]
            if others:
                false.append(float(np.mean(others)))
        out[f"{key}_spread"] = max(medians) - min(medians)
        out[f"{key}_low"] = min(medians)
        out[f"{key}_false"] = max(false)
    return out


def reachable(ev: JudgeEvidence) -> None:
    """Per class, the share of true held poses above the bar the shipped policy fits on all the faces."""
    judge = ev.fit(BASE)
    shares = []
    for c, name in enumerate(ev.class_names):
        if name in judge.knots:
            bar = judge.knots[name][1][0]
            shares.append(f"{name} {(ev.held[ev.labels == c, c] > bar).mean():.0%}")
    print("true held poses above the win bar: " + ", ".join(shares))


def floor(ev: JudgeEvidence, sizes: list[int], judge=None, draws: int = 2000) -> np.ndarray:
    """Frame spreads of a judge (default: fitted on every face of `ev`) on `draws` samples of `sizes` faces a class.

    Prints each expression's median true-face score and the spread's distribution; returns the spreads.
    """
    if len(sizes) != len(ev.class_names):
        raise SystemExit(f"--floor needs {len(ev.class_names)} sizes, one per class of {ev.class_names}")
    where = "the model's own curves" if judge is not None else f"a judge fitted on all {len(ev.labels)} faces"
    judge = judge if judge is not None else ev.fit(BASE)
    rng = np.random.default_rng(0)
    played = [
        (c, n)
        for (c, name), n in zip(enumerate(ev.class_names), sizes)
        if n and name not in OFF and name in judge.knots and (ev.labels == c).any()
    ]
    medians = {}
    for c, n in played:
        scores = scores_of(judge, ev.held[ev.labels == c], c, ev.class_names[c])
        # without replacement where the evidence has enough faces: a fresh split is other faces, not repeats
        replace_ = n > len(scores)
        medians[c] = np.array([np.median(rng.choice(scores, n, replace=replace_)) for _ in range(draws)])
    spreads = np.max(list(medians.values()), axis=0) - np.min(list(medians.values()), axis=0)
    cells = [
        f"{ev.class_names[c]} {np.median(m):.0f} [{np.quantile(m, 0.05):.0f}-{np.quantile(m, 0.95):.0f}] (n {n})"
        for (c, n), m in zip(played, medians.values())
    ]
    low, mid, high = np.quantile(spreads, [0.05, 0.5, 0.95])
    print(f"floor: {where}, scored on {draws} samples of the evidence's faces at these sizes")
    print("  frames (b), median true-face score per expression [5th-95th pct]: " + ", ".join(cells))
    print(f"  spread: median {mid:.0f}, 90% of samples {low:.0f}-{high:.0f}; ≤ 10 in {(spreads <= 10).mean():.0%}")
    return spreads


def averaged(paths: list[str]) -> JudgeEvidence:
    """One evidence whose probabilities are the mean of the files' (which must hold the same faces)."""
    evidences = [JudgeEvidence.load(p) for p in paths]
    first = evidences[0]
    for path, ev in zip(paths[1:], evidences[1:]):
        if ev.class_names != first.class_names or not np.array_equal(ev.labels, first.labels):
            raise SystemExit(f"{path}: other classes or faces than {paths[0]}: cannot average")
    return replace(
        first,
        held=np.mean([ev.held for ev in evidences], axis=0),
        crops=np.mean([ev.crops for ev in evidences], axis=0),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("evidence", nargs="+")
    parser.add_argument("--halvings", type=int, default=40)
    parser.add_argument("--leave-out", nargs="*", default=[], help="more expressions to leave out of the spread")
    parser.add_argument("--average", action="store_true", help="score the files' averaged probabilities as one judge")
    parser.add_argument(
        "--publictest-only", action="store_true", help="leave out the unseen Training faces an evidence file holds"
    )
    parser.add_argument(
        "--per-class", action="store_true", help="each expression's frame median over the halvings (today's policy)"
    )
    parser.add_argument(
        "--pool", action="store_true", help="halve PublicTest and the unseen Training faces together (more to score on)"
    )
    parser.add_argument(
        "--floor", default=None, help="faces per class (comma-separated, class order): the yardstick's own noise"
    )
    parser.add_argument("--model", default=None, help="with --floor: score with this model's own judge curves")
    args = parser.parse_args()
    OFF.extend(args.leave_out)  # e.g. disgust: how much of the spread is one small class's (24 PublicTest faces)
    sources = {" + ".join(args.evidence): averaged(args.evidence)} if args.average else None
    for path in sources or args.evidence:
        ev = sources[path] if sources else JudgeEvidence.load(path)
        clear = ev.clear()
        extra = 0 if ev.unseen_training is None or args.publictest_only else int(ev.unseen_training.sum())
        where = "halved with them" if args.pool else "in every fitting half"
        publictest = len(ev.labels) - (0 if ev.unseen_training is None else int(ev.unseen_training.sum()))
        print(
            f"\n{path}: {publictest} PublicTest faces (+ {extra} unseen Training faces {where}), "
            f"{0 if clear is None else clear.sum()} clear"
        )
        header = "median (90th pct) over halvings of: "
        cols = ["b_spread", "b_low", "b_false"] + (["c_spread", "c_low", "c_false"] if clear is not None else [])
        reachable(ev)
        if args.floor:
            own = Recognizer(args.model).judge if args.model else None
            floor(ev, [int(n) for n in args.floor.split(",")], judge=own)
            continue
        print(header + ", ".join(cols))
        for title, policy in POLICIES.items():
            rng = np.random.default_rng(0)
            rows = []
            for _ in range(args.halvings):
                fit, score = split_faces(ev, rng, unseen=not args.publictest_only, pool=args.pool)
                judge = fit_judge(
                    ev.held[fit],
                    ev.labels[fit],
                    ev.class_names,
                    "half",
                    ev.crops[fit],
                    None if clear is None else clear[fit],
                    policy,
                )
                rows.append(measure(judge, ev, score, clear))
            cells = []
            for col in cols:
                values = np.array([r[col] for r in rows])
                # the bad tail: a high spread or false rate, a low lowest median
                tail = np.quantile(values, 0.1 if col.endswith("low") else 0.9)
                fmt = "{:.1%} ({:.1%})" if col.endswith("false") else "{:.0f} ({:.0f})"
                cells.append(fmt.format(np.median(values), tail))
            print(f"  {title:28s} " + "  ".join(f"{c:>15s}" for c in cells))
            if args.per_class and policy is BASE:  # which expressions set the spread, and how steady each is
                names = [k.removeprefix("b_median_") for k in rows[0] if k.startswith("b_median_")]
                cells = []
                for name in names:
                    values = np.array([r.get(f"b_median_{name}", np.nan) for r in rows])
                    low, mid, high = np.nanquantile(values, [0.1, 0.5, 0.9])
                    cells.append(f"{name} {mid:.0f} [{low:.0f}-{high:.0f}]")
                print("    frames (b), median true-face score per expression [10th-90th pct]: " + ", ".join(cells))


if __name__ == "__main__":
    main()
