"""Fit a model's judge curves on PublicTest faces in webcam-like frames, and write them into its ONNX file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ferkit.errors import DatasetUnsuitable
from ferkit.infer.judge import METADATA_KEY, JudgeCalibration, fit_judge
from ferkit.infer.recognizer import Recognizer
from ferkit.labels import SELECT_SPLIT
from ferkit.vision.webcam import frame_probabilities
from ferkit.weights.metadata import with_metadata


def fit_on_webcam_frames(
    model: str | Path,
    data: str | Path,
    *,
    seed: int = 1,
    limit: int | None = None,
    frames: int = 3,
    progress: Callable[[int, int], None] | None = None,
    ferplus: str | Path | None = None,
) -> JudgeCalibration:
    """PublicTest faces (never PrivateTest) held for `frames` webcam-like frames through the whole pipeline.

    Each face contributes what a round scores: per class, the lowest probability over the held frames
    (the game's HOLD_FRAMES), so the curves are fitted on held poses, not on single lucky frames; its
    plain crop bounds the win bar too. A FER+ model is fitted on the FER+ majority labels (`ferplus`:
    fer2013new.csv).
    """
    from ferkit.data import load_faces, split_with_labels

    recognizer = Recognizer(model)
    # in the model's own label space: FER2013's labels, or the FER+ majority vote (faces without one left out)
    faces, labels = split_with_labels(load_faces(data, ferplus=ferplus), SELECT_SPLIT, recognizer.class_names)
    if len(labels) == 0:
        raise DatasetUnsuitable(f"{data}: the {SELECT_SPLIT} faces need labels to fit the judge")
    if set(range(len(recognizer.class_names))) - set(labels.tolist()):
        raise DatasetUnsuitable(f"{data}: {SELECT_SPLIT} lacks some of the model's classes {recognizer.class_names}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))[:limit] if limit else np.arange(len(labels))
    probabilities = np.zeros((len(order), len(recognizer.class_names)))
    for k, i in enumerate(order):
        probabilities[k] = frame_probabilities(recognizer, faces[i], rng, frames).min(axis=0)
        if progress is not None:
            progress(k + 1, len(order))
    crops = recognizer.predict_faces(np.asarray(faces)[order])  # the same faces as plain crops
    fitted_on = f"{SELECT_SPLIT}, {frames} webcam-like frames held per face; win bar also on the plain crops"
    return fit_judge(probabilities, labels[order], recognizer.class_names, fitted_on, crops)


def write_judge(model: str | Path, out: str | Path, judge: JudgeCalibration) -> Path:
    """A copy of the ONNX model (weights untouched) with the curves in its metadata."""
    return with_metadata(model, out, METADATA_KEY, judge.to_json())
