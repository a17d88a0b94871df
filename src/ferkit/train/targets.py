"""Turn a FaceSet into training and selection arrays: FER2013 labels or FER+ vote distributions.

PrivateTest is never read here: training uses Training, selection uses PublicTest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferkit.data import FaceSet, ferplus_distribution, ferplus_majority
from ferkit.labels import EMOTIONS, FERPLUS_EMOTIONS, SELECT_SPLIT, TRAIN_SPLIT


class DatasetUnsuitable(ValueError):
    """The dataset cannot train a model (no labels, no PublicTest split, ...)."""


@dataclass(frozen=True)
class LabelledFaces:
    faces: np.ndarray  # N×48×48 uint8
    labels: np.ndarray  # N int64, hard labels (majority for FER+)
    targets: np.ndarray  # N×C float32, what the loss is computed against
    row_index: np.ndarray  # positions in the source file


def _check_split(faces: FaceSet, split: str) -> FaceSet:
    if split not in faces.split_names:
        have = ", ".join(faces.split_names) or "none"
        why = "for selection (PublicTest)" if split == SELECT_SPLIT else "to train on"
        raise DatasetUnsuitable(
            f"{faces.source} has no {split} split {why}; it has: {have}. "
            "Use a file with the official splits (fer2013.csv, icml_face_data.csv)."
        )
    part = faces.split(split)
    if not (part.labels >= 0).all():
        raise DatasetUnsuitable(f"{faces.source}: the {split} faces have no labels")
    return part


def labelled_splits(
    faces: FaceSet, mode: str, label_smoothing: float = 0.0
) -> tuple[LabelledFaces, LabelledFaces, tuple[str, ...]]:
    """(training, selection, class names) for label mode 'fer2013' or 'ferplus'."""
    train, select = _check_split(faces, TRAIN_SPLIT), _check_split(faces, SELECT_SPLIT)
    if mode == "fer2013":
        return _hard(train, len(EMOTIONS)), _hard(select, len(EMOTIONS)), EMOTIONS
    if mode == "ferplus":
        if faces.votes is None:
            raise DatasetUnsuitable("labels 'ferplus' need the FER+ votes: pass --ferplus fer2013new.csv")
        return _ferplus(train), _ferplus(select), FERPLUS_EMOTIONS
    raise KeyError(f"unknown label mode {mode!r}; choose fer2013 or ferplus")


def _hard(part: FaceSet, num_classes: int) -> LabelledFaces:
    labels = part.labels.astype(np.int64)
    return LabelledFaces(np.asarray(part.faces), labels, np.eye(num_classes, dtype=np.float32)[labels], part.row_index)


def _ferplus(part: FaceSet) -> LabelledFaces:
    """FER+ paper: drop faces without a majority emotion; train on the vote distribution."""
    majority = ferplus_majority(part.votes)
    keep = majority >= 0
    return LabelledFaces(
        np.asarray(part.faces)[keep],
        majority[keep].astype(np.int64),
        ferplus_distribution(part.votes)[keep],
        part.row_index[keep],
    )
