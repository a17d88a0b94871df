"""Test-time augmentation views of uint8 faces: none, flip, or ten shifted-and-mirrored crops."""

from __future__ import annotations

import numpy as np

from ferkit.errors import UnknownName
from ferkit.face_size import CROP_PAD, FACE_SIZE

TTA_MODES = ("none", "flip", "tencrop")
_PAD = CROP_PAD
# Five 48×48 windows of the face padded by 4 (edge-replicated): the same shifts training's random
# crop makes, so every view looks like something the network saw.
_OFFSETS = ((_PAD, _PAD), (0, 0), (0, 2 * _PAD), (2 * _PAD, 0), (2 * _PAD, 2 * _PAD))


def tta_views(faces: np.ndarray, mode: str) -> list[np.ndarray]:
    """The views whose predicted probabilities are averaged."""
    if mode == "none":
        return [faces]
    if mode == "flip":
        return [faces, faces[:, :, ::-1]]
    if mode == "tencrop":
        padded = np.pad(faces, ((0, 0), (_PAD, _PAD), (_PAD, _PAD)), mode="edge")
        crops = [padded[:, y : y + FACE_SIZE, x : x + FACE_SIZE] for y, x in _OFFSETS]
        return crops + [c[:, :, ::-1] for c in crops]
    raise UnknownName(f"unknown TTA {mode!r}; choose one of: {', '.join(TTA_MODES)}")
