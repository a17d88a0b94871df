"""Read photos for prediction: any supported format, EXIF orientation honoured, size-capped (ferkit.imagefile)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferkit.imagefile import decode_image, read_image_bytes


def read_image(path: str | Path) -> np.ndarray:
    """A photo file as a BGR image; DataError subclasses name the file and the problem."""
    return decode_image(read_image_bytes(path), str(path))
