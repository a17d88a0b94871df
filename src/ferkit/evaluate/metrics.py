"""Classification metrics from true and predicted labels (numpy only): the numbers every report shows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[i, j] = faces of true class i predicted as class j."""
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


@dataclass(frozen=True)
class ClassMetrics:
    name: str
    precision: float
    recall: float
    f1: float
    accuracy: float  # one-vs-rest: how often 'is it this class?' is answered right
    support: int


def per_class_metrics(cm: np.ndarray, names: tuple[str, ...] | list[str]) -> list[ClassMetrics]:
    total = cm.sum()
    out = []
    for k, name in enumerate(names):
        tp = cm[k, k]
        fp = cm[:, k].sum() - tp
        fn = cm[k, :].sum() - tp
        tn = total - tp - fp - fn
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append(
            ClassMetrics(
                name,
                float(precision),
                float(recall),
                float(f1),
                float((tp + tn) / total) if total else 0.0,
                int(cm[k, :].sum()),
            )
        )
    return out


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, bins: int = 15) -> tuple[float, dict]:
    """ECE over equal-width confidence bins, and the reliability-diagram data behind it."""
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y_true).astype(np.float64)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    acc = np.bincount(which, weights=correct, minlength=bins) / np.maximum(counts, 1)
    conf = np.bincount(which, weights=confidence, minlength=bins) / np.maximum(counts, 1)
    ece = float((counts / max(len(y_true), 1) * np.abs(acc - conf)).sum())
    return ece, {
        "edges": edges.tolist(),
        "accuracy": acc.tolist(),
        "confidence": conf.tolist(),
        "count": counts.tolist(),
    }


def summary_metrics(y_true: np.ndarray, probs: np.ndarray, names: tuple[str, ...] | list[str]) -> dict:
    """accuracy, macro-F1, per-class table, confusion matrix, ECE: JSON-ready."""
    y_pred = probs.argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred, len(names))
    classes = per_class_metrics(cm, names)
    ece, reliability = expected_calibration_error(probs, y_true)
    return {
        "n": len(y_true),
        "accuracy": float((y_pred == y_true).mean()) if len(y_true) else 0.0,
        "macro_f1": float(np.mean([c.f1 for c in classes])),
        # mean recall: the accuracy if every class were equally common (a game's or posed photos' mix)
        "balanced_accuracy": float(np.mean([c.recall for c in classes if c.support])) if len(y_true) else 0.0,
        "per_class": {
            c.name: {
                "precision": c.precision,
                "recall": c.recall,
                "f1": c.f1,
                "accuracy": c.accuracy,
                "support": c.support,
            }
            for c in classes
        },
        "confusion_matrix": cm.tolist(),
        "true_counts": cm.sum(axis=1).tolist(),
        "predicted_counts": cm.sum(axis=0).tolist(),
        "ece": ece,
        "reliability": reliability,
    }
