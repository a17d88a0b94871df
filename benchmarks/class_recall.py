"""Per-expression recall of models on dataset crops: the judge's view of a model, beside its accuracy.

For each model, on PublicTest (never PrivateTest unless asked): accuracy, balanced accuracy (mean recall),
recall and one-vs-rest AUC per FER2013 class, on (1) FER2013's labels and (2) the faces whose 10 FER+
annotators agree strongly (≥ 7 votes) — the clearest, most posed-like faces the data has. A FER+ model
(8 classes) is read in FER2013's 7 (contempt left out, the rest renormalised), so models of both label
spaces compare on the same faces. Each model is read as trained (plain softmax) and, when it carries one,
with its balanced decision rule (`ferkit fit-rule`); `--prior-power t` also shows it with its probabilities
divided by its own training prior (FER2013's class frequencies, or FER+'s mean vote) to the power t.
Usage: python benchmarks/class_recall.py MODEL [MODEL ...] [--split PublicTest] [--prior-power 0.5 ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ferkit.data import load_faces, training_prior
from ferkit.data.label_space import in_fer2013_classes
from ferkit.evaluate.predictors import load_predictor
from ferkit.labels import EMOTIONS, FERPLUS_TO_FER2013
from ferkit.weights.decision_rule import shifted

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def one_vs_rest_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a random true face outranks a random other face (ties count half)."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores[np.diff(np.sort(scores), prepend=np.nan) == 0]):  # average tied ranks
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def row(title: str, probabilities: np.ndarray, labels: np.ndarray, with_auc: bool) -> None:
    predicted = probabilities.argmax(1)
    recall = [float((predicted[labels == c] == c).mean()) for c in range(len(EMOTIONS))]
    print(
        f"{title:44s} {(predicted == labels).mean():6.1%} {np.mean(recall):6.1%}  "
        + " ".join(f"{r:5.0%}" for r in recall)
    )
    if with_auc:
        aucs = [one_vs_rest_auc(probabilities[:, c], labels == c) for c in range(len(EMOTIONS))]
        print(f"{'  one-vs-rest AUC':58s}  " + " ".join(f"{a:5.3f}" for a in aucs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--data", type=Path, default=DATA / "fer2013.tar.gz")
    parser.add_argument("--ferplus", type=Path, default=DATA / "fer2013new.csv")
    parser.add_argument("--split", default="PublicTest", choices=["PublicTest", "PrivateTest"])
    parser.add_argument("--prior-power", type=float, nargs="*", default=[])
    args = parser.parse_args()
    dataset = load_faces(args.data, ferplus=args.ferplus)
    part = dataset.split(args.split)
    faces, labels = np.asarray(part.faces), part.labels.astype(int)
    top = part.votes[:, :8].argmax(1)
    clear_labels = np.array([-1 if FERPLUS_TO_FER2013[int(t)] is None else FERPLUS_TO_FER2013[int(t)] for t in top])
    clear = (part.votes[:, :8].max(1) >= 7) & (clear_labels >= 0)
    print(
        f"{args.split}: {len(labels)} faces; FER+ clear faces: {clear.sum()} "
        f"({', '.join(f'{n} {(clear_labels[clear] == c).sum()}' for c, n in enumerate(EMOTIONS))})"
    )
    print(f"{'model / faces':44s} {'acc':>6s} {'bal.':>6s}  " + " ".join(f"{n[:5]:>5s}" for n in EMOTIONS))
    for model in args.models:
        predictor = load_predictor(model)  # as trained
        names = tuple(predictor.class_names)
        raw = predictor.predict_proba(faces)
        prior = training_prior(dataset, names)
        views = [("", raw)]
        stored = getattr(predictor, "decision_rule", None)
        if stored is not None:
            views.append((f" balanced (power {stored.power:g})", shifted(raw, stored.logit_offsets(names))))
        views += [(f" ÷ prior^{t:g}", shifted(raw, -t * np.log(prior))) for t in args.prior_power]
        for tag, probabilities in views:
            mapped = in_fer2013_classes(probabilities, names)
            row(f"{model}{tag}, FER2013 labels", mapped, labels, with_auc=not tag)
            row(f"{model}{tag}, FER+ clear faces", mapped[clear], clear_labels[clear], with_auc=False)


if __name__ == "__main__":
    main()
