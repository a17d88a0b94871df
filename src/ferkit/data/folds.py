"""Folds of the Training faces for cross-fitted teachers: a run that never sees one fold can label it honestly.

A teacher trained on every Training face has fit each face's own (noisy) label, so its soft label for that
face mostly repeats the label. K runs, each holding out one fold, give every Training face a soft label from
a net that never saw it. Folds are drawn from each face's pixels, not its row: FER2013 holds identical copies
of some faces, and a copy on the other side of the fold would let the teacher see the face after all.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from ferkit.errors import BadInput

HELD_OUT_KEY = "training_fold_held_out"  # a model's metadata: the 'k/K' fold of Training it never saw
_HOLD_OUT = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_hold_out(text: str) -> tuple[int, int] | None:
    """'k/K' (hold out fold k of K, counted from 0) → (k, K); '' → None (train on every face)."""
    if not text:
        return None
    match = _HOLD_OUT.match(text)
    if match is None:
        raise BadInput(f"hold_out must read 'k/K' (fold k of K held out, k from 0), not {text!r}")
    k, folds = int(match[1]), int(match[2])
    if folds < 2 or not 0 <= k < folds:
        raise BadInput(f"hold_out {text!r}: needs at least 2 folds and 0 <= k < K")
    return k, folds


def face_folds(faces: np.ndarray, folds: int) -> np.ndarray:
    """The fold (0..folds-1) of each N×48×48 face, from a hash of its pixels: identical faces share a fold."""
    faces = np.ascontiguousarray(faces)
    digests = (hashlib.blake2b(face.tobytes(), digest_size=8).digest() for face in faces)
    keys = np.fromiter((int.from_bytes(d, "little") for d in digests), dtype=np.uint64, count=len(faces))
    return (keys % np.uint64(folds)).astype(np.int64)
