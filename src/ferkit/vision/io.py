"""Read photos for prediction: any format OpenCV or Pillow decodes, EXIF orientation honoured, size-capped."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ferkit.data.errors import DataError

MAX_PIXELS = 50_000_000  # a 50-megapixel photo is fine; a decompression bomb is not


def decode_image(raw: bytes | np.ndarray, source: str = "image") -> np.ndarray:
    """BGR uint8 image from encoded bytes; DataError for non-images and absurd dimensions."""
    buf = np.frombuffer(raw, np.uint8) if isinstance(raw, bytes | bytearray) else raw
    if buf.size == 0:
        raise DataError(source, "empty file; expected an image")
    header = cv2.imdecode(buf, cv2.IMREAD_REDUCED_GRAYSCALE_8)  # cheap look at the size first
    if header is None:
        raise DataError(source, "not a readable image (expected JPEG, PNG, BMP, WebP or TIFF)")
    if header.shape[0] * header.shape[1] * 64 > MAX_PIXELS:
        raise DataError(source, f"image too large (over {MAX_PIXELS // 1_000_000} megapixels)")
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR)  # applies the EXIF orientation
    if image is None:
        raise DataError(source, "not a readable image")
    return image


def read_image(path: str | Path) -> np.ndarray:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror})") from None
    return decode_image(raw, str(path))
