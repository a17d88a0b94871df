"""Turn a FaceSet into training and selection arrays: FER2013 labels or FER+ vote distributions.

PrivateTest is never read here: training uses Training, selection uses PublicTest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferkit.data import FaceSet, ferplus_distribution, ferplus_majority
from ferkit.errors import DatasetUnsuitable, UnknownName
from ferkit.labels import EMOTIONS, FERPLUS_EMOTIONS, SELECT_SPLIT, SPLITS, TRAIN_SPLIT


@dataclass(frozen=True)
class LabelledFaces:
    faces: np.ndarray  # N×48×48 uint8
    labels: np.ndarray  # N int64, hard labels (majority for FER+)
    targets: np.ndarray  # N×C float32, what the loss is computed against
    row_index: np.ndarray  # positions in the source file
    teacher: np.ndarray | None = None  # N×C float32 soft labels of a teacher file, when distilling

    def subset(self, keep: np.ndarray) -> LabelledFaces:
        """The faces where `keep` (a boolean mask) is true."""
        return LabelledFaces(
            self.faces[keep],
            self.labels[keep],
            self.targets[keep],
            self.row_index[keep],
            None if self.teacher is None else self.teacher[keep],
        )


def _check_split(faces: FaceSet, split: str) -> np.ndarray:
    """The split's row mask, once it is known to exist with labels."""
    if split not in faces.split_names:
        have = ", ".join(faces.split_names) or "none"
        why = "for selection (PublicTest)" if split == SELECT_SPLIT else "to train on"
        raise DatasetUnsuitable(
            f"{faces.source} has no {split} split {why}; it has: {have}. "
            "Use a file with the official splits (fer2013.csv, icml_face_data.csv)."
        )
    rows = faces.split_codes == SPLITS.index(split)
    if not (faces.labels[rows] >= 0).all():
        raise DatasetUnsuitable(f"{faces.source}: the {split} faces have no labels")
    return rows


def class_names_of(mode: str) -> tuple[str, ...]:
    """The classes a label mode trains."""
    if mode == "fer2013":
        return EMOTIONS
    if mode == "ferplus":
        return FERPLUS_EMOTIONS
    raise UnknownName(f"unknown label mode {mode!r}; choose fer2013 or ferplus")


def labelled_splits(
    faces: FaceSet, mode: str, teacher: np.ndarray | None = None
) -> tuple[LabelledFaces, LabelledFaces, tuple[str, ...]]:
    """(training, selection, class names) for label mode 'fer2013' or 'ferplus'.

    `teacher` (N×C, aligned with `faces`) rides along with the training faces it belongs to.
    """
    names = class_names_of(mode)
    train, select = _check_split(faces, TRAIN_SPLIT), _check_split(faces, SELECT_SPLIT)
    if mode == "ferplus" and faces.votes is None:
        raise DatasetUnsuitable("labels 'ferplus' need the FER+ votes: pass --ferplus fer2013new.csv")
    make = _hard if mode == "fer2013" else _ferplus
    return make(faces, train, len(names), teacher), make(faces, select, len(names), None), names


def _hard(faces: FaceSet, rows: np.ndarray, num_classes: int, teacher: np.ndarray | None) -> LabelledFaces:
    labels = faces.labels[rows].astype(np.int64)
    return LabelledFaces(
        np.asarray(faces.faces)[rows],
        labels,
        np.eye(num_classes, dtype=np.float32)[labels],
        faces.row_index[rows],
        None if teacher is None else teacher[rows],
    )


def _ferplus(faces: FaceSet, rows: np.ndarray, num_classes: int, teacher: np.ndarray | None) -> LabelledFaces:
    """FER+ paper: drop faces without a majority emotion; train on the vote distribution."""
    votes = faces.votes[rows]  # type: ignore[index]
    majority = ferplus_majority(votes)
    keep = majority >= 0
    return LabelledFaces(
        np.asarray(faces.faces)[rows][keep],
        majority[keep].astype(np.int64),
        ferplus_distribution(votes)[keep],
        faces.row_index[rows][keep],
        None if teacher is None else teacher[rows][keep],
    )
