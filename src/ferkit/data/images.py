"""Decode an image file of any size or colour into a 48×48 grayscale face, as FER2013 stores them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ferkit.data.errors import DataError
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
    """One image file as a 48×48 uint8 face; EXIF orientation is honoured by OpenCV's decoder."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror})") from None
    gray = cv2.imdecode(raw, cv2.IMREAD_GRAYSCALE) if raw.size else None
    if gray is None:
        # OpenCV has no GIF decoder in some builds; Pillow reads those.
        gray = _decode_with_pillow(path)
    if gray is None:
        raise DataError(path, "not a readable image (expected JPEG, PNG, BMP, WebP, TIFF or GIF)")
    return to_face48(gray)


def _decode_with_pillow(path: Path) -> np.ndarray | None:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("L"))
    except (UnidentifiedImageError, OSError, ValueError):
        return None
