"""Does a FER+ model add to a FER2013 ensemble? Mix and stack rules fitted on PublicTest, scored on PrivateTest.

A model trained on FER+ votes (8 classes) saw the same Training faces through ten annotators instead of
one: it knows something FER2013's own nets do not (issue 13: "a teacher that knows something else").
Its probabilities are mapped to FER2013's 7 classes (contempt dropped, the rest renormalised; the map is
`labels.FERPLUS_TO_FER2013`) and combined with a FER2013 model's by rules fitted on PublicTest only:

- each model alone;
- a linear mix (1 - w) p_fer2013 + w p_ferplus, w on a grid, chosen by PublicTest accuracy;
- stacking: multinomial logistic regression on the log-probabilities, its C chosen by 5-fold
  cross-validation on PublicTest, fitted on all of PublicTest — once on the FER2013 model's 7 columns
  alone (the control: how much is plain re-calibration of class priors) and once on both models' 15.

PublicTest figures of fitted rules are cross-validated (the fold that scores a face did not fit on it);
PrivateTest is read once per rule, never to choose. Probabilities are cached in `--cache`.
Usage: python benchmarks/cross_label_ensemble.py --fer2013 runs/fer-ens7g.onnx \\
    --ferplus-model runs/ferplus-ens10.onnx --data ../shared/data/fer2013.tar.gz [--cache runs/cross.npz]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from ferkit.data import load_faces, split_with_labels
from ferkit.data.label_space import in_fer2013_classes
from ferkit.evaluate.predictors import load_predictor
from ferkit.labels import EMOTIONS, FERPLUS_EMOTIONS, FERPLUS_TO_FER2013, REPORT_SPLIT, SELECT_SPLIT

SPLITS = (SELECT_SPLIT, REPORT_SPLIT)
MIX_GRID = np.round(np.arange(0.0, 1.0001, 0.05), 2)
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def split_probabilities(model: str, data: str, cache: Path | None, key: str) -> dict[str, np.ndarray]:
    """Each split's probabilities from `model`, with the FER2013 labels; read from the cache when it has them."""
    if cache is not None and cache.exists():
        stored = np.load(cache, allow_pickle=False)
        if all(f"{key}/{s}" in stored for s in SPLITS):
            return {s: stored[f"{key}/{s}"] for s in SPLITS}
    predictor = load_predictor(model)
    dataset = load_faces(data)
    probs = {}
    for split in SPLITS:
        faces, _ = split_with_labels(dataset, split, tuple(EMOTIONS))
        probs[split] = predictor.predict_proba(faces)
    return probs


def labels_of(data: str) -> dict[str, np.ndarray]:
    dataset = load_faces(data)
    return {s: split_with_labels(dataset, s, tuple(EMOTIONS))[1] for s in SPLITS}


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float((probs.argmax(1) == labels).mean())


def best_mix(fer: dict, plus: dict, labels: dict) -> tuple[float, float, float]:
    """Weight chosen on PublicTest (ties to the smaller weight); its PublicTest and PrivateTest accuracy."""
    scores = [accuracy((1 - w) * fer[SELECT_SPLIT] + w * plus[SELECT_SPLIT], labels[SELECT_SPLIT]) for w in MIX_GRID]
    w = float(MIX_GRID[int(np.argmax(scores))])
    return w, max(scores), accuracy((1 - w) * fer[REPORT_SPLIT] + w * plus[REPORT_SPLIT], labels[REPORT_SPLIT])


def stacked(features: dict, labels: dict, seed: int = 0) -> tuple[LogisticRegression, float, float]:
    """Logistic regression on log-probabilities, C by CV on PublicTest.

    Returns the fit (on all of PublicTest), its cross-validated PublicTest and its PrivateTest accuracy.
    """
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    x, y = features[SELECT_SPLIT], labels[SELECT_SPLIT]
    cv = {}
    for c in C_GRID:
        predicted = cross_val_predict(LogisticRegression(C=c, max_iter=2000), x, y, cv=folds)
        cv[c] = float((predicted == y).mean())
    c = max(C_GRID, key=lambda k: (cv[k], -k))  # ties to the stronger regularisation
    fitted = LogisticRegression(C=c, max_iter=2000).fit(x, y)
    return fitted, cv[c], float((fitted.predict(features[REPORT_SPLIT]) == labels[REPORT_SPLIT]).mean())


def log_features(*probabilities: np.ndarray) -> np.ndarray:
    return np.concatenate([np.log(np.clip(p, 1e-6, 1)) for p in probabilities], axis=1)


def split_features(*models: dict) -> dict[str, np.ndarray]:
    return {s: log_features(*(m[s] for m in models)) for s in SPLITS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fer2013", required=True, help="a FER2013 model (7 classes): .onnx, .pt, run dir")
    parser.add_argument("--ferplus-model", required=True, help="a FER+ model (8 classes)")
    parser.add_argument("--data", required=True)
    parser.add_argument("--cache", type=Path, default=None, help="an .npz keeping the probabilities for reruns")
    args = parser.parse_args()

    fer = split_probabilities(args.fer2013, args.data, args.cache, "fer2013")
    plus8 = split_probabilities(args.ferplus_model, args.data, args.cache, "ferplus")
    if args.cache is not None:
        np.savez_compressed(
            args.cache, **{f"fer2013/{s}": fer[s] for s in SPLITS}, **{f"ferplus/{s}": plus8[s] for s in SPLITS}
        )
    if fer[SELECT_SPLIT].shape[1] != len(EMOTIONS) or plus8[SELECT_SPLIT].shape[1] != len(FERPLUS_TO_FER2013):
        raise SystemExit("expected a 7-class FER2013 model for --fer2013 and an 8-class FER+ model for --ferplus-model")
    plus = {s: in_fer2013_classes(plus8[s], FERPLUS_EMOTIONS) for s in SPLITS}
    labels = labels_of(args.data)

    print(f"{'rule':58s} {'PublicTest':>10s} {'PrivateTest':>11s}")
    for name, probs in (
        (f"FER2013 model alone ({args.fer2013})", fer),
        (f"FER+ model as 7 classes ({args.ferplus_model})", plus),
    ):
        print(f"{name[:58]:58s} {accuracy(probs[SELECT_SPLIT], labels[SELECT_SPLIT]):10.2%} "
              f"{accuracy(probs[REPORT_SPLIT], labels[REPORT_SPLIT]):11.2%}")  # fmt: skip
    w, sel, rep = best_mix(fer, plus, labels)
    print(f"{f'linear mix, FER+ weight {w:.2f} (chosen on PublicTest)':58s} {sel:10.2%} {rep:11.2%}")
    stack, sel, rep = stacked(split_features(fer), labels)
    print(f"{f'stacked, FER2013 model only (C={stack.C}; PublicTest 5-fold CV)':58s} {sel:10.2%} {rep:11.2%}")
    stack, sel, rep = stacked(split_features(fer, plus8), labels)
    print(f"{f'stacked, both models (C={stack.C}; PublicTest 5-fold CV)':58s} {sel:10.2%} {rep:11.2%}")


if __name__ == "__main__":
    main()
