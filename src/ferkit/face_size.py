"""The face every model sees — FACE_SIZE×FACE_SIZE gray uint8, as FER2013 stores them — and the resize to it."""

from __future__ import annotations

import cv2
import numpy as np

FACE_SIZE = 48
FACE_SHAPE = (1, FACE_SIZE, FACE_SIZE)  # channels, height, width of one face after the batch dimension
# Training's random crops shift a face by up to this many pixels (padded first); ten-crop TTA uses the
# same shifts, so every test view looks like something the network saw.
CROP_PAD = 4


def to_face48(gray: np.ndarray) -> np.ndarray:
    """Resize a grayscale face crop to 48×48 uint8 (area filter when shrinking, as the dataset was made)."""
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {gray.shape}")
    if gray.shape == (FACE_SIZE, FACE_SIZE):
        return np.ascontiguousarray(gray, dtype=np.uint8)
    shrinking = gray.shape[0] > FACE_SIZE or gray.shape[1] > FACE_SIZE
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interp).astype(np.uint8)
