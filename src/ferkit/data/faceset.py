"""FaceSet: the in-memory dataset every reader returns (uint8 faces, labels, splits, FER+ votes)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ferkit.errors import UnknownName
from ferkit.face_size import FACE_SIZE
from ferkit.labels import EMOTIONS, FERPLUS_VOTE_COLUMNS, SPLITS, split_name

UNKNOWN_LABEL = -1


@dataclass(frozen=True)
class FaceSet:
    """N grayscale 48×48 faces with their FER2013 label (-1 unknown) and official split.

    `votes` holds the FER+ annotators' votes (N×10, columns as `labels.FERPLUS_VOTE_COLUMNS`)
    when the set was joined with fer2013new.csv.
    """

    faces: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int8, -1 = unknown
    split_codes: np.ndarray  # (N,) uint8 index into labels.SPLITS
    votes: np.ndarray | None = None  # (N, 10) uint8
    source: str = ""
    row_index: np.ndarray = field(default=None)  # type: ignore[assignment]  # (N,) position in the source

    def __post_init__(self) -> None:
        n = len(self.faces)
        if self.faces.dtype != np.uint8 or self.faces.shape[1:] != (FACE_SIZE, FACE_SIZE):
            raise ValueError(f"faces must be uint8 N×48×48, got {self.faces.dtype} {self.faces.shape}")
        if self.labels.shape != (n,) or self.split_codes.shape != (n,):
            raise ValueError("labels and split_codes need one entry per face")
        if self.votes is not None and self.votes.shape != (n, len(FERPLUS_VOTE_COLUMNS)):
            raise ValueError(f"votes must be N×{len(FERPLUS_VOTE_COLUMNS)}, got {self.votes.shape}")
        if self.row_index is None:
            object.__setattr__(self, "row_index", np.arange(n, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.faces)

    @property
    def has_labels(self) -> bool:
        return bool(len(self)) and bool((self.labels >= 0).all())

    @property
    def split_names(self) -> list[str]:
        """The splits present, in official order."""
        present = set(np.unique(self.split_codes).tolist())
        return [name for i, name in enumerate(SPLITS) if i in present]

    def split(self, name: str) -> FaceSet:
        """The faces of one split (Training, PublicTest, PrivateTest or Test)."""
        name = split_name(name)
        if name not in self.split_names:
            have = ", ".join(self.split_names) or "none"
            raise UnknownName(f"{self.source or 'this dataset'} has no {name} split (it has: {have})")
        return self.subset(self.split_codes == SPLITS.index(name))

    def subset(self, mask_or_index: np.ndarray) -> FaceSet:
        """The faces selected by a boolean mask or an index array, in that order."""
        pick = mask_or_index
        return FaceSet(
            faces=self.faces[pick],
            labels=self.labels[pick],
            split_codes=self.split_codes[pick],
            votes=None if self.votes is None else self.votes[pick],
            source=self.source,
            row_index=self.row_index[pick],
        )

    def class_counts(self) -> dict[str, int]:
        """Faces per FER2013 class (unlabelled faces are not counted)."""
        known = self.labels[self.labels >= 0]
        counts = np.bincount(known.astype(np.int64), minlength=len(EMOTIONS))
        return {name: int(c) for name, c in zip(EMOTIONS, counts)}
