"""FER+ (fer2013new.csv): annotator votes joined row by row to FER2013, and the FER+ paper's label rules."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ferkit.data.errors import DataError
from ferkit.data.faceset import FaceSet
from ferkit.labels import FERPLUS_NOT_A_FACE, FERPLUS_UNKNOWN, FERPLUS_VOTE_COLUMNS, SPLITS

FERPLUS_HEADER = ("Usage", "Image name", *FERPLUS_VOTE_COLUMNS)


def read_ferplus_votes(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(votes N×10 uint8, split code per row) from fer2013new.csv."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(path, f"cannot read the FER+ votes file ({e})") from None
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None:
        raise DataError(path, "the file is empty; expected FER+ votes with header " + ",".join(FERPLUS_HEADER))
    if tuple(h.strip() for h in header) != FERPLUS_HEADER:
        raise DataError(path, f"unexpected header; expected {','.join(FERPLUS_HEADER)}", line=1)
    votes, splits = [], []
    for lineno, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != len(FERPLUS_HEADER):
            raise DataError(path, f"expected {len(FERPLUS_HEADER)} fields, found {len(row)}", line=lineno)
        usage = row[0].strip()
        if usage not in SPLITS[:3]:
            raise DataError(path, f"Usage is {usage!r}; expected one of {', '.join(SPLITS[:3])}", line=lineno)
        try:
            counts = [int(v) for v in row[2:]]
        except ValueError:
            raise DataError(path, "votes must be integers", line=lineno) from None
        if min(counts) < 0 or max(counts) > 255:
            raise DataError(path, "votes must be between 0 and 255", line=lineno)
        votes.append(counts)
        splits.append(SPLITS.index(usage))
    return np.array(votes, dtype=np.uint8).reshape(-1, len(FERPLUS_VOTE_COLUMNS)), np.array(splits, np.uint8)


def join_ferplus(faces: FaceSet, path: Path) -> FaceSet:
    """Attach the FER+ votes; the files must align one to one (same row count and split on every row)."""
    votes, splits = read_ferplus_votes(path)
    if len(votes) != len(faces):
        raise DataError(
            path,
            f"has {len(votes)} rows but {faces.source} has {len(faces)}; "
            "FER+ votes join row by row to the full fer2013.csv",
        )
    mismatch = np.flatnonzero(splits != faces.split_codes)
    if len(mismatch):
        row = int(mismatch[0])
        raise DataError(
            path,
            f"row {row + 1} is {SPLITS[splits[row]]} but {faces.source} row {row + 1} is "
            f"{SPLITS[faces.split_codes[row]]}: the files are not aligned",
            line=row + 2,
        )
    return FaceSet(faces.faces, faces.labels, faces.split_codes, votes, faces.source, faces.row_index)


def ferplus_majority(votes: np.ndarray) -> np.ndarray:
    """FER+ majority labels (0..7, FER+ order), -1 where the paper drops the face.

    The FER+ paper's rule: a single vote for a class is treated as noise and removed; the top class
    must then hold more than half of the remaining votes; faces whose winner is 'unknown' or 'not a
    face' (or that have no majority) are dropped.
    """
    v = votes.astype(np.int32)
    v = np.where(v <= 1, 0, v)
    total = v.sum(axis=1)
    top = v.argmax(axis=1)
    has_majority = v.max(axis=1) * 2 > total
    labels = np.where(has_majority & (total > 0), top, -1)
    labels[(labels == FERPLUS_UNKNOWN) | (labels == FERPLUS_NOT_A_FACE)] = -1
    return labels.astype(np.int8)


def ferplus_distribution(votes: np.ndarray) -> np.ndarray:
    """Vote distribution over the 8 FER+ emotions (rows sum to 1; all-zero rows stay zero)."""
    emo = votes[:, :8].astype(np.float32)
    total = emo.sum(axis=1, keepdims=True)
    return np.divide(emo, total, out=np.zeros_like(emo), where=total > 0)


def not_a_face(votes: np.ndarray) -> np.ndarray:
    """True where most annotators said the image is not a face (FER+'s NF column wins)."""
    return votes.argmax(axis=1) == FERPLUS_NOT_A_FACE
