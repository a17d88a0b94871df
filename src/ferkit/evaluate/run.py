"""Score a model on one official split, with optional test-time augmentation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ferkit.data import load_faces
from ferkit.data.label_space import split_with_labels
from ferkit.data.summary import seen_in
from ferkit.evaluate.calibration import apply_temperature, fit_temperature
from ferkit.evaluate.metrics import summary_metrics
from ferkit.evaluate.predictors import Predictor, load_predictor
from ferkit.evaluate.tta import tta_views
from ferkit.labels import SELECT_SPLIT, TRAIN_SPLIT, split_name


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, Any]  # accuracy, macro_f1, per_class, n, split, model, tta, ...
    faces: np.ndarray
    labels: np.ndarray
    probs: np.ndarray
    class_names: tuple[str, ...]


def predict_with_tta(predictor: Predictor, faces: np.ndarray, tta: str) -> np.ndarray:
    views = tta_views(faces, tta)
    return np.mean([predictor.predict_proba(np.ascontiguousarray(v)) for v in views], axis=0)


def unseen_accuracy(faces: np.ndarray, labels: np.ndarray, probs: np.ndarray, training: np.ndarray) -> dict:
    """Accuracy on the faces with no byte-identical copy in Training (FER2013 leaks ~270 into each test split)."""
    unseen = ~seen_in(faces, training)
    correct = probs.argmax(1) == labels
    accuracy = float(correct[unseen].mean()) if unseen.any() else None
    return {"n": int(unseen.sum()), "copies_in_training": int((~unseen).sum()), "accuracy": accuracy}


def evaluate(
    model: str | Path,
    data: str | Path,
    *,
    split: str = SELECT_SPLIT,
    tta: str = "none",
    ferplus: str | Path | None = None,
    calibrate: bool = False,
    rule: str = "as-trained",
) -> Evaluation:
    """Score `model` on `split`; with `calibrate`, a temperature fitted on PublicTest rescales the probabilities."""
    split = split_name(split)
    predictor = load_predictor(model, rule)  # as-trained: how published tables score; balanced: the stored rule
    dataset = load_faces(data, ferplus=ferplus)
    faces, labels = split_with_labels(dataset, split, predictor.class_names)
    probs = predict_with_tta(predictor, faces, tta)
    extra: dict[str, Any] = {}
    if calibrate:
        select_faces, select_labels = split_with_labels(dataset, SELECT_SPLIT, predictor.class_names)
        select_probs = probs if split == SELECT_SPLIT else predict_with_tta(predictor, select_faces, tta)
        temperature = fit_temperature(np.log(np.clip(select_probs, 1e-12, 1)), select_labels)
        extra = {
            "temperature": temperature,
            "temperature_fitted_on": SELECT_SPLIT,
            "ece_before_temperature": summary_metrics(labels, probs, predictor.class_names)["ece"],
        }
        probs = apply_temperature(probs, temperature)
    metrics = summary_metrics(labels, probs, predictor.class_names)
    metrics.update(split=split, model=predictor.description, tta=tta, rule=rule, data=str(data), **extra)
    if split != TRAIN_SPLIT and TRAIN_SPLIT in dataset.split_names:
        metrics["unseen"] = unseen_accuracy(faces, labels, probs, np.asarray(dataset.split(TRAIN_SPLIT).faces))
    return Evaluation(metrics, faces, labels, probs, predictor.class_names)
