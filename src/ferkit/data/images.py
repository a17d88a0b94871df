"""Decode an image file of any size or colour into a 48×48 grayscale face, as FER2013 stores them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferkit.face_size import to_face48

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".gif"})


def read_face_image(path: Path) -> np.ndarray:
    """One image file as a 48×48 uint8 face: the uploads' decoder and limits (ferkit.imagefile), EXIF honoured."""
    from ferkit.imagefile import decode_image, read_image_bytes

    return to_face48(decode_image(read_image_bytes(path), str(path), gray=True))
