"""A fair judge: each expression's target probability mapped to a 0-100 acting score by its own curve.

The raw probability is not a fair score: on webcam frames the shipped model gives a typical acted happy
face 0.9 but a typical acted fear or disgust face 0.1-0.2, so those rounds could hardly be won. The
calibration is fitted per class on PublicTest faces seen the way the game sees them (webcam-like frames
through the detector): a piecewise-linear, increasing curve through
  - (0, 0) and (1, 100);
  - the probability that only FALSE_REWARD_RATE of the other classes' faces reach (each other class
    weighing the same) → WIN_SCORE, so a wrong face rarely wins; the higher of that bar on webcam frames
    and on the plain crops of the same faces, since a player close to a good camera looks like the crop
    (the model is surer there: on crops alone the frames' bar let 17% of other faces win happiness);
  - the median true face's probability → MEDIAN_SCORE (when above that first knot): an ordinary good
    performance of any expression earns the same;
  - the median plain crop of the clear true faces (FER+ annotators agree, ≥ 7 of 10 votes; all true
    crops where a class has fewer than 5 such faces) → CLEAR_SCORE: a clear, well-lit performance earns
    the same for every expression too (without it clear angry or fear faces scored 92-96, neutral or sad
    ones 82-84: the curves' upper half was fitted on frames, where the model is less sure);
  - the 90th percentile of true faces → TOP_SCORE (when above the knots before it).
  - only with `JudgePolicy.plateau` (no shipped model uses it; docs/fairness.md, probe 13): the true held poses at
    two quantiles either side of the median → PLATEAU_SCORES, a gentler curve where most true poses lie.
The curves travel in the ONNX model's metadata (`judge_calibration`), so every model carries its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from ferkit.errors import ModelError
from ferkit.labels import SELECT_SPLIT

METADATA_KEY = "judge_calibration"
FORMAT = "ferkit-judge-v1"
WIN_SCORE, MEDIAN_SCORE, CLEAR_SCORE, TOP_SCORE = 50.0, 65.0, 85.0, 95.0
PLATEAU_SCORES = (60.0, 70.0)  # the optional knots either side of the median (JudgePolicy.plateau)
# Of held poses of other expressions reaching WIN_SCORE. The target is ≤ 10% for every expression; fitted at
# 8%, fresh webcam frames of the same PublicTest faces already gave up to 11.6% on one expression (frame
# noise plus 60-face samples, ~1.4 points of spread), so the bar is fitted with a two-spread margin.
FALSE_REWARD_RATE = 0.06
KnotQuantiles = tuple[tuple[str, float, float], ...]  # per expression: (held-pose quantile, clear-crop quantile)


@dataclass(frozen=True)
class JudgeCalibration:
    """Per class, the knots (probability, score) of an increasing piecewise-linear curve."""

    knots: dict[str, tuple[tuple[float, float], ...]]
    fitted_on: str = SELECT_SPLIT

    def score(self, target: str, probability: float) -> float:
        """0-100 for a held target probability; a class without a curve keeps the raw probability ×100."""
        knots = self.knots.get(target)
        if knots is None:
            return 100.0 * probability
        xs, ys = zip(*knots)
        return float(np.interp(probability, xs, ys))

    def acting_score(self, target: str, probability: float) -> int:
        """The 0-100 whole-number score a round or an API answer shows."""
        return min(100, round(self.score(target, probability)))

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "fitted_on": self.fitted_on, "knots": self.knots})

    @classmethod
    def from_json(cls, text: str) -> JudgeCalibration:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ModelError(f"judge calibration format {data.get('format')!r}; expected {FORMAT}")
        knots = {name: tuple((float(p), float(s)) for p, s in points) for name, points in data["knots"].items()}
        for name, points in knots.items():
            xs, ys = zip(*points)
            if list(xs) != sorted(xs) or list(ys) != sorted(ys) or xs[0] != 0 or xs[-1] != 1:
                raise ModelError(f"judge calibration for {name!r} is not an increasing curve from 0 to 1")
        return cls(knots, data.get("fitted_on", ""))


@dataclass(frozen=True)
class JudgePolicy:
    """How the knots are placed; the defaults are what the shipped models were fitted with."""

    false_reward_rate: float = FALSE_REWARD_RATE
    bar_on_crops: bool = True  # the bar is also the crops' bar at the same rate, when higher
    median_quantile: float = 0.5  # the true held pose at this quantile earns MEDIAN_SCORE
    clear_score: float | None = CLEAR_SCORE  # the median clear true crop earns this; None: no such knot
    min_clear: int = 5  # fewer clear true faces than this: the knot is placed on all true crops instead
    min_gap: float = 0.0  # the median knot sits at least this far (in probability) right of the win bar
    full_weight_faces: int = 1  # an other expression with fewer faces weighs (faces / this) in the bar
    # Where fewer than this share of the true held poses clear the bar, the bar drops to the pose at that share
    # (None: never), but not below the bar that `lowest_bar_rate` of other faces would pass, on frames or crops.
    true_above_bar: float | None = None
    lowest_bar_rate: float = 0.08
    # (low, high) quantiles of the true held poses that earn PLATEAU_SCORES around the median's 65 (None: no such
    # knots): a gentler curve where most true poses lie, so a small shift of a class's poses moves its median score
    # less. `clear_first`: where the high knot would pass the clear crops' knot, the clear knot is kept instead.
    plateau: tuple[float, float] | None = None
    clear_first: bool = False
    # Per expression, (held-pose quantile, clear-crop quantile) that earn MEDIAN_SCORE and the clear score instead of
    # `median_quantile` and the clear crops' median: where the population's median pose lies among the fitting
    # faces' (probe 15, `benchmarks/judge_fold_yardstick.py --population-knots`). Empty: the defaults everywhere.
    knot_quantiles: KnotQuantiles = ()


def fit_judge(
    probabilities: np.ndarray,
    labels: np.ndarray,
    class_names: tuple[str, ...],
    fitted_on: str,
    crop_probabilities: np.ndarray | None = None,
    clear: np.ndarray | None = None,
    policy: JudgePolicy = JudgePolicy(),
):
    """Curves from frame-level probabilities (faces × classes) of faces whose true class is `labels`.

    `crop_probabilities` (the same faces as plain crops) raise a class's win bar where crops need a higher one;
    `clear` (a mask of faces whose annotators agree strongly) places a knot for clear crops (`policy.clear_score`).
    """
    knots = {}
    quantiles = {name: (median_q, clear_q) for name, median_q, clear_q in policy.knot_quantiles}
    for c, name in enumerate(class_names):
        median_q, clear_q = quantiles.get(name, (policy.median_quantile, 0.5))
        true, other = probabilities[labels == c, c], probabilities[labels != c, c]
        if len(true) < 5 or len(other) < 5:
            continue
        rate, floor = policy.false_reward_rate, policy.full_weight_faces
        win = _balanced_quantile(other, labels[labels != c], 1 - rate, floor)
        if crop_probabilities is not None and policy.bar_on_crops:
            crops_other = crop_probabilities[labels != c, c]
            win = max(win, _balanced_quantile(crops_other, labels[labels != c], 1 - rate, floor))
        if policy.true_above_bar is not None:
            win = _lowered_bar(win, true, probabilities[labels != c, c], crop_probabilities, labels, c, policy)
        points = [(0.0, 0.0), (win, WIN_SCORE)]
        median, top = float(np.quantile(true, median_q)), float(np.quantile(true, 0.9))
        clear_knot = None
        if policy.clear_score is not None and crop_probabilities is not None:
            true_crops = crop_probabilities[labels == c, c]
            clear_true = true_crops if clear is None else crop_probabilities[(labels == c) & clear, c]
            if len(clear_true) < policy.min_clear:  # too few clear faces (disgust, contempt): all true crops
                clear_true = true_crops
            clear_knot = float(np.quantile(clear_true, clear_q))
        low, high = np.quantile(true, policy.plateau) if policy.plateau is not None else (None, None)
        if low is not None and win < low < median:
            points.append((float(low), PLATEAU_SCORES[0]))
        if median > win:
            # a median just right of the bar would make the curve a cliff there: fresh faces would score 50 or 65
            gap = max(median - win, policy.min_gap)
            points.append((win + gap, WIN_SCORE + (MEDIAN_SCORE - WIN_SCORE) * (median - win) / gap))
        if (
            high is not None
            and high > points[-1][0]
            and not (policy.clear_first and clear_knot is not None and high >= clear_knot)
        ):
            points.append((float(high), PLATEAU_SCORES[1]))
        if clear_knot is not None and clear_knot > points[-1][0]:
            points.append((clear_knot, policy.clear_score))
        if top > points[-1][0]:
            points.append((top, TOP_SCORE))
        points.append((1.0, 100.0))
        knots[name] = tuple(_strictly_increasing(points))
    return JudgeCalibration(knots, fitted_on)


def _lowered_bar(
    win: float,
    true: np.ndarray,
    other: np.ndarray,
    crop_probabilities: np.ndarray | None,
    labels: np.ndarray,
    c: int,
    policy: JudgePolicy,
) -> float:
    """The bar lowered to the true held pose that `policy.true_above_bar` of them clear, within the false-reward cap.

    Without it a class whose median held pose lies under the bar (disgust for the shipped FER+ model: the other
    faces' bar on crops sits above half of its held poses) gets no median knot, and its ordinary good performance
    scores ~50 where every other expression's scores 65, however many faces the curve is fitted on.
    """
    wanted = float(np.quantile(true, 1 - policy.true_above_bar))
    if wanted >= win:
        return win
    classes, rate, floor = labels[labels != c], policy.lowest_bar_rate, policy.full_weight_faces
    lowest = _balanced_quantile(other, classes, 1 - rate, floor)
    if crop_probabilities is not None and policy.bar_on_crops:
        lowest = max(lowest, _balanced_quantile(crop_probabilities[labels != c, c], classes, 1 - rate, floor))
    return max(wanted, min(lowest, win))


def _balanced_quantile(values: np.ndarray, classes: np.ndarray, q: float, full_weight_faces: int = 1) -> float:
    """The q-quantile of `values` with every class weighing the same, however many faces it has.

    A wrong face in the game can be any other expression: with the dataset's own mix, the frequent classes
    (happy, neutral) would set the bar and the ones most often confused with the target (fear for
    surprise, disgust for anger) would win more than FALSE_REWARD_RATE of their rounds.
    """
    counts = {k: n for k, n in zip(*np.unique(classes, return_counts=True))}
    # a class with fewer than `full_weight_faces` faces weighs less: a handful of faces is a noisy estimate
    weights = np.array([min(1.0, counts[k] / full_weight_faces) / counts[k] for k in classes])
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][min(np.searchsorted(cumulative, q), len(values) - 1)])


def _strictly_increasing(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop knots that do not move right (ties at 0 or 1 from saturated probabilities)."""
    kept = [points[0]]
    for p, s in points[1:]:
        if p > kept[-1][0] + 1e-6 and s >= kept[-1][1]:
            kept.append((p, s))
    if kept[-1][0] < 1.0:
        kept.append((1.0, 100.0))
    elif kept[-1][1] < 100.0:
        kept[-1] = (1.0, 100.0)
    return [(round(p, 6), s) for p, s in kept]
