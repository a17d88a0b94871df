"""Fit the power of a model's decision rule on PublicTest (never PrivateTest) and store the rule in the model.

The rule divides each class's probability by its training prior to a power (weights/decision_rule.py).
The power is the one whose probabilities score best on PublicTest when every expression counts the same:
the lowest balanced log-loss (the mean over classes of the true class's -log p). A proper score, smooth
in the power, and not decided by a handful of faces as the balanced accuracy of the rare classes would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferkit.labels import SELECT_SPLIT
from ferkit.weights.decision_rule import PriorShift, shifted

POWERS = tuple(round(0.05 * k, 2) for k in range(21))  # 0, 0.05, ..., 1 (1 = Bayes' rule for a calibrated net)


@dataclass(frozen=True)
class RuleScore:
    """How a power does on the selection split."""

    power: float
    accuracy: float
    balanced_accuracy: float
    balanced_log_loss: float


def balanced_log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the classes present of the mean -log p(true class)."""
    true_p = np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0)
    return float(np.mean([-np.log(true_p[labels == c]).mean() for c in np.unique(labels)]))


def score_power(probabilities: np.ndarray, labels: np.ndarray, prior: np.ndarray, power: float) -> RuleScore:
    q = shifted(probabilities, -power * np.log(prior))
    predicted = q.argmax(axis=1)
    recall = [float((predicted[labels == c] == c).mean()) for c in np.unique(labels)]
    return RuleScore(power, float((predicted == labels).mean()), float(np.mean(recall)), balanced_log_loss(q, labels))


def fit_prior_shift(
    probabilities: np.ndarray, labels: np.ndarray, prior: np.ndarray, class_names: tuple[str, ...], fitted_on: str
) -> tuple[PriorShift, list[RuleScore]]:
    """The power with the lowest balanced log-loss (the smaller on a tie), and every power's scores."""
    prior = np.clip(prior, 1e-6, 1.0)  # a class absent from Training must not divide by zero
    scores = [score_power(probabilities, labels, prior, p) for p in POWERS]
    best = min(scores, key=lambda s: (round(s.balanced_log_loss, 6), s.power))
    priors = {name: float(p) for name, p in zip(class_names, prior)}
    return PriorShift(priors, best.power, fitted_on), scores


def fit_decision_rule(
    model: str | Path, data: str | Path, *, ferplus: str | Path | None = None
) -> tuple[PriorShift, list[RuleScore]]:
    """Training prior from the data's Training split, power fitted on its PublicTest, in the model's classes."""
    from ferkit.data import load_faces, split_with_labels, training_prior
    from ferkit.weights import resolve_model
    from ferkit.weights.onnx_classifier import OnnxClassifier

    classifier = OnnxClassifier(resolve_model(model), rule="as-trained")
    dataset = load_faces(data, ferplus=ferplus)
    prior = training_prior(dataset, classifier.class_names)
    faces, labels = split_with_labels(dataset, SELECT_SPLIT, classifier.class_names)
    probabilities = classifier.predict_proba(faces)
    fitted_on = f"power: lowest balanced log-loss on {SELECT_SPLIT} ({len(labels)} faces); priors: Training"
    return fit_prior_shift(probabilities, labels, prior, classifier.class_names, fitted_on)
