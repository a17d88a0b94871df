"""Decode an image file of any size or colour into a 48×48 grayscale face, as FER2013 stores them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ferkit.data.faceset import FACE_SIZE

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".gif"})


def to_face48(gray: np.ndarray) -> np.ndarray:
    """Resize a grayscale face crop to 48×48 uint8 (area filter when shrinking, as the dataset was made)."""
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {gray.shape}")
    if gray.shape == (FACE_SIZE, FACE_SIZE):
        return np.ascontiguousarray(gray, dtype=np.uint8)
    shrinking = gray.shape[0] > FACE_SIZE or gray.shape[1] > FACE_SIZE
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interp).astype(np.uint8)


def read_face_image(path: Path) -> np.ndarray:
    """One image file as a 48×48 uint8 face: the uploads' decoder and limits (ferkit.imagefile), EXIF honoured."""
    from ferkit.imagefile import decode_image, read_image_bytes

    return to_face48(decode_image(read_image_bytes(path), str(path), gray=True))
