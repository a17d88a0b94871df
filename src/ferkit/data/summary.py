"""Dataset summary for `ferkit data info`: rows and class counts per split, exact duplicate faces."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from ferkit.data.faceset import FaceSet
from ferkit.labels import EMOTIONS, SPLITS


def duplicate_groups(faces: FaceSet) -> list[np.ndarray]:
    """Row indices of each set of byte-identical faces (groups of two or more)."""
    flat = np.ascontiguousarray(faces.faces.reshape(len(faces), -1))
    rows = flat.view(np.dtype((np.void, flat.shape[1]))).ravel()
    _, inverse, counts = np.unique(rows, return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(counts)[:-1]
    return [g for g in np.split(order, bounds) if len(g) > 1]


def seen_in(faces: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Which of `faces` (N×H×W) have a byte-identical copy among `reference` (M×H×W): a mask of N."""
    known = {bytes(face) for face in np.ascontiguousarray(reference).reshape(len(reference), -1)}
    return np.array([bytes(face) in known for face in np.ascontiguousarray(faces).reshape(len(faces), -1)], bool)


def summarize(faces: FaceSet) -> dict[str, Any]:
    """Everything `data info` prints, as plain JSON-ready values."""
    splits = faces.split_names
    per_split = {name: faces.split(name) for name in splits}
    groups = duplicate_groups(faces)
    within: dict[str, int] = defaultdict(int)  # extra copies inside one split
    across: dict[str, int] = defaultdict(int)  # faces of a pair of splits that also occur in the other
    conflicting = 0
    for g in groups:
        codes = faces.split_codes[g]
        for code in np.unique(codes):
            within[SPLITS[code]] += int((codes == code).sum()) - 1
        present = sorted({int(c) for c in codes})
        for i, a in enumerate(present):
            for b in present[i + 1 :]:
                across[f"{SPLITS[a]}/{SPLITS[b]}"] += 1
        labels = faces.labels[g]
        conflicting += int(len(np.unique(labels[labels >= 0])) > 1)
    return {
        "source": faces.source,
        "rows": len(faces),
        "rows_per_split": {name: len(s) for name, s in per_split.items()},
        "class_names": list(EMOTIONS),
        "class_counts": {name: s.class_counts() for name, s in per_split.items() if (s.labels >= 0).any()},
        "unlabelled_rows": int((faces.labels < 0).sum()),
        "ferplus_votes": faces.votes is not None,
        "duplicates": {
            "groups": len(groups),
            "faces_in_groups": int(sum(len(g) for g in groups)),
            "extra_copies_within_split": {name: within.get(name, 0) for name in splits},
            "groups_shared_across_splits": dict(across),
            "groups_with_conflicting_labels": conflicting,
        },
    }
