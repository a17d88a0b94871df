"""Teacher files: soft labels for every Training and PublicTest face, kept small and checked against the data.

A teacher file is what an ensemble (or the FER+ annotators) knows about each face, computed once on
whatever compute was at hand and reused by every later run: float16 probabilities for the Training +
PublicTest faces in file order (PrivateTest never), the class names, who taught, and the sha256 of the
faces, labels and splits they belong to. It is read with `allow_pickle=False`: a hostile file cannot run
code, and a file for another dataset or class list is refused with a message saying which.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferkit.data.errors import DataError
from ferkit.data.faceset import FaceSet
from ferkit.labels import EMOTIONS, FERPLUS_TO_FER2013, SELECT_SPLIT, SPLITS, TRAIN_SPLIT

TEACHER_FORMAT = "ferkit-teacher-v1"
TEACHER_SPLITS = (TRAIN_SPLIT, SELECT_SPLIT)  # never PrivateTest: it is only ever reported


@dataclass(frozen=True)
class Teacher:
    """Probabilities per taught face; `probabilities` is members × faces × classes or faces × classes."""

    probabilities: np.ndarray
    labels: np.ndarray  # the FER2013 labels of the taught faces (a cheap second check of the alignment)
    split_codes: np.ndarray
    class_names: tuple[str, ...]
    members: tuple[str, ...]  # who taught: checkpoints, an ensemble, "FER+ votes"
    dataset_sha256: str

    @property
    def mean_probabilities(self) -> np.ndarray:
        """faces × classes float32: the members' average (an ensemble's prediction)."""
        p = self.probabilities.astype(np.float32)
        return p.mean(axis=0) if p.ndim == 3 else p


def taught_rows(faces: FaceSet) -> np.ndarray:
    """Boolean mask of the faces a teacher covers: Training and PublicTest, in file order."""
    return np.isin(faces.split_codes, [SPLITS.index(s) for s in TEACHER_SPLITS])


def dataset_digest(faces: np.ndarray, labels: np.ndarray, split_codes: np.ndarray) -> str:
    """sha256 of the faces, labels and splits a teacher belongs to (not of a file's bytes: a pack and the
    original csv of the same faces agree)."""
    h = hashlib.sha256()
    for array in (faces, labels, split_codes):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def faceset_digest(faces: FaceSet) -> str:
    """The digest of a FaceSet's taught rows."""
    rows = taught_rows(faces)
    return dataset_digest(np.asarray(faces.faces)[rows], np.asarray(faces.labels)[rows], faces.split_codes[rows])


def write_teacher(path: str | Path, teacher: Teacher) -> Path:
    """Write `teacher` as a compressed .npz of plain arrays (float16 probabilities, strings as JSON)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez_compressed(
            f,
            format=np.array(TEACHER_FORMAT),
            probabilities=teacher.probabilities.astype(np.float16),
            labels=np.asarray(teacher.labels, dtype=np.int8),
            split_codes=np.asarray(teacher.split_codes, dtype=np.uint8),
            class_names=np.array(json.dumps(list(teacher.class_names))),
            members=np.array(json.dumps(list(teacher.members))),
            dataset_sha256=np.array(teacher.dataset_sha256),
        )
    return path


def read_teacher(path: str | Path) -> Teacher:
    """A teacher file, checked for format and shape; every problem is a DataError naming the file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {key: z[key] for key in z.files}
    except FileNotFoundError:
        raise DataError(path, "no such teacher file") from None
    except (OSError, ValueError) as e:  # not a zip, or an object array that would need unpickling
        raise DataError(path, f"not a ferkit teacher file ({e})") from None
    missing = {"format", "probabilities", "labels", "split_codes", "class_names", "members", "dataset_sha256"}
    missing -= set(arrays)
    if missing:
        raise DataError(path, f"not a ferkit teacher file: missing {', '.join(sorted(missing))}")
    if str(arrays["format"]) != TEACHER_FORMAT:
        raise DataError(path, f"teacher format {str(arrays['format'])!r}; this ferkit reads {TEACHER_FORMAT!r}")
    try:
        class_names = tuple(json.loads(str(arrays["class_names"])))
        members = tuple(json.loads(str(arrays["members"])))
    except ValueError as e:
        raise DataError(path, f"class_names/members are not JSON lists ({e})") from None
    probs = arrays["probabilities"]
    n = len(arrays["labels"])
    if probs.ndim not in (2, 3) or probs.shape[-2:] != (n, len(class_names)):
        raise DataError(path, f"probabilities of shape {probs.shape} do not fit {n} faces × {len(class_names)} classes")
    return Teacher(probs, arrays["labels"], arrays["split_codes"], class_names, members, str(arrays["dataset_sha256"]))


def aligned_teacher(faces: FaceSet, teacher: Teacher, class_names: tuple[str, ...], source: str | Path) -> np.ndarray:
    """N×C float32 teacher probabilities for every face of `faces` (NaN rows where no teacher applies).

    Refuses a teacher made for other faces (another dataset, another version of the csv) or other classes.
    """
    if tuple(teacher.class_names) != tuple(class_names):
        raise DataError(
            source,
            f"teaches the classes {', '.join(teacher.class_names)}; this run trains "
            f"{', '.join(class_names)}: make a teacher for these classes",
        )
    rows = taught_rows(faces)
    digest = faceset_digest(faces)
    if digest != teacher.dataset_sha256 or int(rows.sum()) != len(teacher.labels):
        raise DataError(
            source,
            f"was made for other faces ({len(teacher.labels):,} taught faces, sha256 {teacher.dataset_sha256[:12]}…); "
            f"{faces.source} has {int(rows.sum()):,} Training + PublicTest faces (sha256 {digest[:12]}…)",
        )
    out = np.full((len(faces), len(class_names)), np.nan, dtype=np.float32)
    out[rows] = teacher.mean_probabilities
    return out


def ferplus_vote_teacher(faces: FaceSet) -> Teacher:
    """FER+ annotators as a teacher for FER2013's 7 classes: each face's vote distribution.

    Votes for FER+'s 8 emotions map to FER2013's classes; 'contempt' has no FER2013 class, and 'unknown'
    and 'not a face' say nothing about the expression, so those votes are left out and the rest
    renormalised. A face with no vote left (about 1% of Training) keeps its FER2013 label as a one-hot
    target: the teacher then adds nothing there rather than inventing an opinion.
    """
    if faces.votes is None:
        raise DataError(faces.source, "a FER+ vote teacher needs the votes: pass --ferplus fer2013new.csv")
    rows = taught_rows(faces)
    votes = faces.votes[rows].astype(np.float32)
    labels = np.asarray(faces.labels)[rows]
    mapped = np.zeros((len(votes), len(EMOTIONS)), np.float32)
    for plus, fer in FERPLUS_TO_FER2013.items():
        if fer is not None:
            mapped[:, fer] += votes[:, plus]
    total = mapped.sum(axis=1, keepdims=True)
    one_hot = np.eye(len(EMOTIONS), dtype=np.float32)[np.clip(labels, 0, None)]
    probs = np.where(total > 0, mapped / np.maximum(total, 1), one_hot)
    return Teacher(probs, labels, faces.split_codes[rows], EMOTIONS, ("FER+ votes (fer2013new.csv)",),
                   faceset_digest(faces))  # fmt: skip
