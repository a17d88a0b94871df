"""A net's kept predictions: its select- and report-split probabilities, so ensembles can be rechosen later.

Checkpoints live in `runs/`, which does not outlive a machine; an ensemble study needs only what each member
predicts. A member's file holds its probabilities on the select split (PublicTest: where its TTA and the
ensemble's members are chosen) and on the report split (PrivateTest: read only to score), with the TTA chosen
on the select split, the class names, and a digest of the faces and labels it was scored on, so a file made
from other data is refused. ~200 kB a member (float32: averaged probabilities keep their exact ties).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferkit.errors import DataError
from ferkit.files import atomic_write

FORMAT = "ferkit-member-predictions-v1"


@dataclass(frozen=True)
class MemberPredictions:
    name: str
    source: str  # the checkpoint the probabilities came from
    class_names: tuple[str, ...]
    flip: bool  # the TTA chosen on the select split
    select_probabilities: np.ndarray  # select-split faces × classes
    report_probabilities: np.ndarray  # report-split faces × classes
    digest: str  # of the faces and labels of both splits (`splits_digest`)


def splits_digest(*arrays: np.ndarray) -> str:
    """sha256 of the faces and labels the predictions belong to, in the order given."""
    h = hashlib.sha256()
    for array in arrays:
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def write_member_predictions(path: str | Path, kept: MemberPredictions) -> Path:
    """Write `kept` as a compressed .npz of plain arrays (a reader never sees half of one)."""
    path = Path(path)
    arrays = {
        "format": np.array(FORMAT),
        "name": np.array(kept.name),
        "source": np.array(kept.source),
        "class_names": np.array(json.dumps(list(kept.class_names))),
        "flip": np.array(kept.flip),
        "select_probabilities": kept.select_probabilities.astype(np.float32),
        "report_probabilities": kept.report_probabilities.astype(np.float32),
        "digest": np.array(kept.digest),
    }
    atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
    return path


def read_member_predictions(path: str | Path, *, digest: str, class_names: tuple[str, ...]) -> MemberPredictions:
    """A kept member; DataError naming the file if it is not one, or was made from other faces or classes."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {key: z[key] for key in z.files}
        if str(arrays.get("format")) != FORMAT:
            raise KeyError(f"format {str(arrays.get('format'))!r}, expected {FORMAT!r}")
        kept = MemberPredictions(
            name=str(arrays["name"]),
            source=str(arrays["source"]),
            class_names=tuple(json.loads(str(arrays["class_names"]))),
            flip=bool(arrays["flip"]),
            select_probabilities=arrays["select_probabilities"],
            report_probabilities=arrays["report_probabilities"],
            digest=str(arrays["digest"]),
        )
    except (OSError, ValueError, KeyError) as e:
        raise DataError(path, f"not a member-predictions file ({e})") from None
    if kept.class_names != class_names:
        raise DataError(path, f"classes {', '.join(kept.class_names)}; the others have {', '.join(class_names)}")
    if kept.digest != digest:
        raise DataError(path, "made from other faces or labels than the data given (its digest differs)")
    return kept
