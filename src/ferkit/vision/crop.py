"""Crop a detected face the way FER2013's faces are framed, then 48×48 gray: shared by training and inference."""

from __future__ import annotations

import math

import numpy as np

from ferkit.face_size import to_face48
from ferkit.vision.detect import FaceBox, to_gray


def eye_angle(box: FaceBox) -> float:
    """Degrees the eye line is turned from horizontal (0 without landmarks)."""
    if not box.landmarks:
        return 0.0
    (lx, ly), (rx, ry) = box.landmarks[0], box.landmarks[1]
    return math.degrees(math.atan2(ry - ly, rx - lx))


def crop_face(image: np.ndarray, box: FaceBox, framing: float, *, level_eyes: bool = False) -> np.ndarray:
    """A square crop centred on the box, `framing` times its larger side, edges replicated, as 48×48 uint8.

    `framing` is the detector's own (`detector.fer_framing`): how its boxes relate to FER2013's crops.

    With `level_eyes` (and landmarks on the box) the crop is turned about the face centre so the eyes
    lie level, as an upright face in the training data would.
    """
    side = round(max(box.w, box.h) * framing)
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    angle = eye_angle(box) if level_eyes else 0.0
    if abs(angle) > 1.0:  # turned about the face centre so the eyes lie level; edges replicated as below
        (lx, ly), (rx, ry) = box.landmarks[0], box.landmarks[1]
        return to_face48(levelled_square(to_gray(image), cx, cy, rx - lx, ry - ly, side))
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    height, width = image.shape[:2]
    if x0 >= 0 and y0 >= 0 and x0 + side <= width and y0 + side <= height:
        square = image[y0 : y0 + side, x0 : x0 + side]
    else:  # edge pixels replicated past the border, as cv2.BORDER_REPLICATE would
        rows = np.clip(np.arange(y0, y0 + side), 0, height - 1)
        cols = np.clip(np.arange(x0, x0 + side), 0, width - 1)
        square = image[np.ix_(rows, cols)]
    # only the square is turned gray, not the whole frame
    return to_face48(to_gray(np.ascontiguousarray(square)))


# Sampling positions in 1/32 pixel and weights summing to 1024: integer arithmetic only, so the page's port
# (static/faces.mjs levelledSquare) gives the same bytes; OpenCV's warpAffine also samples at 1/32 pixel.
SUBPIXEL = 32


def levelled_square(gray: np.ndarray, cx: float, cy: float, dx: float, dy: float, side: int) -> np.ndarray:
    """The side×side square centred on (cx, cy), turned so the direction (dx, dy) becomes horizontal.

    Bilinear, with pixels past the edges replicated. Output pixel (u, v) samples the image at
    (cx + c·u' − s·v', cy + s·u' + c·v'), where u' = u − side/2, v' = v − side/2, c = dx/|d|, s = dy/|d|.
    """
    norm = math.sqrt(dx * dx + dy * dy)
    c, s = dx / norm, dy / norm
    offsets = np.arange(side, dtype=np.float64) - side / 2
    u, v = offsets[None, :], offsets[:, None]
    # evaluated in this order on both sides (float64, no fused multiply-add), then rounded to 1/32 pixel
    x = np.floor((cx + c * u - s * v) * SUBPIXEL + 0.5).astype(np.int64)
    y = np.floor((cy + s * u + c * v) * SUBPIXEL + 0.5).astype(np.int64)
    ix, fx, iy, fy = x >> 5, x & 31, y >> 5, y & 31
    height, width = gray.shape
    x0, x1 = np.clip(ix, 0, width - 1), np.clip(ix + 1, 0, width - 1)
    y0, y1 = np.clip(iy, 0, height - 1), np.clip(iy + 1, 0, height - 1)
    g = gray.astype(np.int64)
    top = (32 - fx) * g[y0, x0] + fx * g[y0, x1]
    bottom = (32 - fx) * g[y1, x0] + fx * g[y1, x1]
    total = (32 - fy) * top + fy * bottom
    return ((total + 512) >> 10).astype(np.uint8)
