"""Cheaper detection in a stream: the faces just found set the smallest face the next detection looks for."""

from __future__ import annotations

from collections.abc import Sequence

from ferkit.vision.detect import FaceBox

# Every FULL_DETECTION_EVERY-th detection of a stream looks for faces of any size (so a new small face is
# found within that many detections); the others only for faces at least FOLLOWED_FACE_SHARE of the
# smallest face just found, which skips the pyramid's finest (largest, dearest) levels.
FULL_DETECTION_EVERY = 4
FOLLOWED_FACE_SHARE = 0.5


def followed_min_size(followed: Sequence[FaceBox], detection: int) -> float | None:
    """The smallest face (pixels) detection number `detection` of a stream looks for; None: any size."""
    if not followed or detection % FULL_DETECTION_EVERY == 0:
        return None
    return FOLLOWED_FACE_SHARE * min(min(box.w, box.h) for box in followed)
