"""Read photos for prediction: any format OpenCV or Pillow decodes, EXIF orientation honoured, size-capped."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ferkit.data.errors import DataError

MAX_PIXELS = 50_000_000  # a 50-megapixel photo is fine; a decompression bomb is not
MAX_SIDE = 30_000  # no camera makes a side this long; a crafted header does


class NotAnImageError(DataError):
    """The bytes are not an image format we read (a server answers 415)."""


class ImageTooLargeError(DataError):
    """The header promises absurd dimensions: a decompression bomb or a panorama we refuse (400)."""


class CorruptImageError(DataError):
    """The header is an image's but the pixels do not decode (400)."""


def image_size(raw: bytes, source: str = "image") -> tuple[int, int]:
    """(width, height) from the header alone, without decoding a pixel."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as im:
                return im.size
    except Image.DecompressionBombError:
        raise ImageTooLargeError(source, f"image too large (over {MAX_PIXELS // 1_000_000} megapixels)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise NotAnImageError(source, "not a readable image (expected JPEG, PNG, BMP, WebP or TIFF)") from None


def decode_image(raw: bytes, source: str = "image") -> np.ndarray:
    """BGR uint8 image from encoded bytes; a DataError subclass for non-images, bombs and corrupt pixels."""
    raw = bytes(raw)
    if not raw:
        raise NotAnImageError(source, "empty file; expected an image")
    width, height = image_size(raw, source)
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise ImageTooLargeError(
            source, f"image too large: {width}×{height} (limit {MAX_PIXELS // 1_000_000} megapixels)"
        )
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)  # applies the EXIF orientation
    if image is None:
        raise CorruptImageError(source, f"the {width}×{height} image's pixel data is damaged")
    return image


def read_image(path: str | Path) -> np.ndarray:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror})") from None
    return decode_image(raw, str(path))
