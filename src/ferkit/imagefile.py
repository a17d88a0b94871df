"""Decode untrusted image bytes with limits: the one decoder for uploads, webcam frames and dataset folders.

The header is read first (Pillow, no pixels decoded): unknown formats, absurd sizes and decompression
bombs are refused before OpenCV allocates anything.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ferkit.errors import DataError

# OpenCV's own "[ WARN:0@...]" lines would interleave with ours: every problem it meets is reported as a
# DataError naming the file instead.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

MAX_PIXELS = 50_000_000  # a 50-megapixel photo is fine; a decompression bomb is not
MAX_SIDE = 30_000  # no camera makes a side this long; a crafted header does
# Pillow's names for the formats OpenCV decodes (MPO: the JPEG variant some cameras write; PPM covers PGM)
FORMATS = frozenset({"JPEG", "MPO", "PNG", "BMP", "WEBP", "TIFF", "GIF", "PPM", "JPEG2000"})
EXPECTED = "JPEG, PNG, BMP, WebP, TIFF or GIF"
MAX_FILE_BYTES = 200 * 1024 * 1024  # an image file is read whole: larger ones are refused unread


class NotAnImageError(DataError):
    """The bytes are not an image format we read (a server answers 415)."""


class ImageTooLargeError(DataError):
    """The header promises absurd dimensions: a decompression bomb or a panorama we refuse (400)."""


class CorruptImageError(DataError):
    """The header is an image's but the pixels do not decode (400)."""


def image_size(raw: bytes, source: str = "image") -> tuple[int, int]:
    """(width, height) from the header alone, without decoding a pixel; NotAnImageError for other formats."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as im:
                size, kind = im.size, im.format
    except Image.DecompressionBombError:
        raise ImageTooLargeError(source, f"image too large (over {MAX_PIXELS // 1_000_000} megapixels)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise NotAnImageError(source, f"not a readable image (expected {EXPECTED})") from None
    if kind not in FORMATS:  # Pillow knows ICO, TGA, PCX...; OpenCV, which decodes, does not
        raise NotAnImageError(source, f"unsupported image format {kind} (expected {EXPECTED})")
    return size


# OpenCV decodes JPEGs at 1/2, 1/4 or 1/8 size directly (DCT scaling), without the full-size pixels;
# other formats are decoded and shrunk by OpenCV. Each flag applies the EXIF orientation.
_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))


def _checked_size(raw: bytes, source: str) -> tuple[int, int]:
    if not raw:
        raise NotAnImageError(source, "empty file; expected an image")
    width, height = image_size(raw, source)
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise ImageTooLargeError(
            source, f"image too large: {width}×{height} (limit {MAX_PIXELS // 1_000_000} megapixels)"
        )
    return width, height


def _imdecode(raw: bytes, flag: int, source: str, size: tuple[int, int]) -> np.ndarray:
    try:
        image = cv2.imdecode(np.frombuffer(raw, np.uint8), flag)
    except cv2.error:  # OpenCV refuses some headers itself (e.g. sizes over its own limits)
        image = None
    if image is None:  # OpenCV builds without a GIF decoder: Pillow reads those (the size is checked)
        image = _decode_with_pillow(raw, gray=flag == cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise CorruptImageError(source, f"the {size[0]}×{size[1]} image's pixel data is damaged")
    return image


def _decode_with_pillow(raw: bytes, *, gray: bool) -> np.ndarray | None:
    from PIL import ImageOps

    try:
        with Image.open(io.BytesIO(raw)) as im:
            upright = ImageOps.exif_transpose(im)
            if gray:
                return np.asarray(upright.convert("L"))
            return cv2.cvtColor(np.asarray(upright.convert("RGB")), cv2.COLOR_RGB2BGR)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def read_image_bytes(path) -> bytes:
    """A file's bytes for decoding; DataError naming the file when it cannot be read or is absurdly large."""
    from pathlib import Path

    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImageTooLargeError(path, f"file too large for an image (over {MAX_FILE_BYTES // 2**20} MiB)")
        return path.read_bytes()
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e.strerror})") from None


def decode_image(raw: bytes, source: str = "image", *, gray: bool = False) -> np.ndarray:
    """BGR (or gray) uint8 image from encoded bytes; a DataError subclass for non-images, bombs, bad pixels."""
    raw = bytes(raw)
    size = _checked_size(raw, source)
    flag = cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR  # both apply the EXIF orientation
    return _imdecode(raw, flag, source, size)


def decode_image_within(raw: bytes, max_pixels: int, source: str = "image") -> tuple[np.ndarray, tuple[int, int]]:
    """The image shrunk to at most `max_pixels`, and the (width, height) of the full-size image.

    A server's pixel budget: what an analysis costs no longer grows with the upload's resolution, and a
    large JPEG never exists at full size in memory.
    """
    raw = bytes(raw)
    width, height = _checked_size(raw, source)
    pixels = width * height
    if pixels <= max_pixels:
        image = _imdecode(raw, cv2.IMREAD_COLOR, source, (width, height))
        return image, (image.shape[1], image.shape[0])
    # the strongest reduction that still leaves at least the budget, then an exact area resize
    flag = next((f for r, f in _REDUCED if pixels / (r * r) >= max_pixels), cv2.IMREAD_COLOR)
    image = _imdecode(raw, flag, source, (width, height))
    factor = (max_pixels / (image.shape[0] * image.shape[1])) ** 0.5
    if factor < 1:
        target = (max(1, int(image.shape[1] * factor)), max(1, int(image.shape[0] * factor)))
        image = cv2.resize(image, target, interpolation=cv2.INTER_AREA)
    # the EXIF orientation may have turned the image: the header's sides are from before the turn
    turned = width != height and (image.shape[1] > image.shape[0]) != (width > height)
    return image, (height, width) if turned else (width, height)
