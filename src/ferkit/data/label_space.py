"""A split's faces and labels in the label space a model predicts: FER2013's 7 classes or FER+'s 8."""

from __future__ import annotations

import numpy as np

from ferkit.data.faceset import FaceSet
from ferkit.data.ferplus import ferplus_majority
from ferkit.errors import DatasetUnsuitable
from ferkit.labels import EMOTIONS, FERPLUS_EMOTIONS, FERPLUS_SPLIT_HINT, FERPLUS_TO_FER2013


def split_with_labels(faces: FaceSet, split: str, class_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(faces, labels) of a split, in the label space the model predicts (FER2013, or FER+'s majority vote)."""
    images, labels, _ = split_with_votes(faces, split, class_names)
    return images, labels


def split_with_votes(
    faces: FaceSet, split: str, class_names: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """As `split_with_labels`, plus the kept faces' FER+ votes (None where the data has none)."""
    if split not in faces.split_names:
        hint = f" ({FERPLUS_SPLIT_HINT})" if faces.votes is not None and split == "Test" else ""
        raise DatasetUnsuitable(f"{faces.source} has no {split} split{hint}; it has: {', '.join(faces.split_names)}")
    part = faces.split(split)
    if class_names == EMOTIONS:
        if not (part.labels >= 0).all():
            raise DatasetUnsuitable(f"{faces.source}: the {split} faces have no labels to score against")
        return np.asarray(part.faces), part.labels.astype(np.int64), part.votes
    if class_names == FERPLUS_EMOTIONS:
        if part.votes is None:
            raise DatasetUnsuitable("this model predicts the 8 FER+ classes: pass --ferplus fer2013new.csv")
        majority = ferplus_majority(part.votes)
        keep = majority >= 0
        return np.asarray(part.faces)[keep], majority[keep].astype(np.int64), part.votes[keep]
    raise DatasetUnsuitable(
        f"the model predicts {len(class_names)} classes {class_names}; the data has FER2013's 7 "
        "or FER+'s 8: this checkpoint was trained on another label set"
    )


def training_prior(faces: FaceSet, class_names: tuple[str, ...]) -> np.ndarray:
    """The class mix a model of `class_names` was trained on: the mean training target, summing to 1.

    FER2013's label frequencies; for FER+ the mean vote distribution of the Training faces kept (those
    with a majority emotion), which is what a model trained on those distributions learns as its prior.
    """
    from ferkit.data.ferplus import ferplus_distribution
    from ferkit.labels import TRAIN_SPLIT

    if class_names == FERPLUS_EMOTIONS:
        if faces.votes is None:
            raise DatasetUnsuitable("this model predicts the 8 FER+ classes: pass --ferplus fer2013new.csv")
        votes = faces.split(TRAIN_SPLIT).votes
        prior = ferplus_distribution(votes)[ferplus_majority(votes) >= 0].mean(axis=0)
    else:
        _, labels = split_with_labels(faces, TRAIN_SPLIT, class_names)
        prior = np.bincount(labels, minlength=len(class_names)).astype(np.float64)
    return prior / prior.sum()


def in_fer2013_classes(probabilities: np.ndarray, class_names: tuple[str, ...]) -> np.ndarray:
    """A FER+ model's probabilities over FER2013's 7 classes (contempt left out, the rest renormalised);
    a FER2013 model's as they are."""
    if tuple(class_names) == EMOTIONS:
        return probabilities
    if tuple(class_names) != FERPLUS_EMOTIONS:
        raise DatasetUnsuitable(f"a model of classes {', '.join(class_names)}: only FER2013's or FER+'s map here")
    mapped = np.zeros((len(probabilities), len(EMOTIONS)))
    for plus, fer in FERPLUS_TO_FER2013.items():
        if fer is not None:
            mapped[:, fer] += probabilities[:, plus]
    return mapped / np.clip(mapped.sum(1, keepdims=True), 1e-12, None)
