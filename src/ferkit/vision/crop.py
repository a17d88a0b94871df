"""Crop a detected face the way FER2013's faces are framed, then 48×48 gray: shared by training and inference."""

from __future__ import annotations

import math

import cv2
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
        return to_face48(levelled_square(image, cx, cy, rx - lx, ry - ly, side))
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


def levelled_square(image: np.ndarray, cx: float, cy: float, dx: float, dy: float, side: int) -> np.ndarray:
    """The side×side gray square centred on (cx, cy), turned so the direction (dx, dy) becomes horizontal.

    Bilinear, with pixels past the edges replicated. Output pixel (u, v) samples the image at
    (cx + c·u' − s·v', cy + s·u' + c·v'), where u' = u − side/2, v' = v − side/2, c = dx/|d|, s = dy/|d|;
    a sample at (ix + fx/32, iy + fy/32) is ((32−fx)(32−fy)·p00 + fx(32−fy)·p01 + (32−fx)fy·p10 + fx·fy·p11
    + 512) >> 10. `image` is BGR or gray.
    """
    if not (abs(cx) < 2**24 and abs(cy) < 2**24 and 0 < side < 2**16):  # positions in 1/32 px fit int32
        raise ValueError(f"a levelled square needs a centre within 2^24 pixels and a side under 2^16, not {side}")
    norm = math.sqrt(dx * dx + dy * dy)
    c, s = dx / norm, dy / norm
    offsets = np.arange(side, dtype=np.float64) - side / 2
    u, v = offsets[None, :], offsets[:, None]
    # evaluated in this order on both sides (float64, no fused multiply-add), then rounded to 1/32 pixel
    x = np.floor((cx + c * u - s * v) * SUBPIXEL + 0.5).astype(np.int32)
    y = np.floor((cy + s * u + c * v) * SUBPIXEL + 0.5).astype(np.int32)
    ix, iy = x >> 5, y >> 5
    height, width = image.shape[:2]
    # Only the window the square reads is made gray (the whole frame cost 3 ms a face). Its edges are the
    # image's wherever a sample falls outside, so replicating the window's edges replicates the image's.
    left, right = int(np.clip(ix.min(), 0, width - 1)), int(np.clip(ix.max() + 1, 0, width - 1))
    top, bottom = int(np.clip(iy.min(), 0, height - 1)), int(np.clip(iy.max() + 1, 0, height - 1))
    span = max(right - left, bottom - top) + 1
    if span > np.iinfo(np.int16).max:  # the remap below takes int16 positions
        raise ValueError(f"a levelled face crop can span at most 32767 pixels, not {span}")
    gray = to_gray(np.ascontiguousarray(image[top : bottom + 1, left : right + 1]))
    # OpenCV's fixed-point remap is exactly the sum above: its bilinear table for 1/32 pixel holds
    # (32−fx)(32−fy)·32 (sum 32768) and it rounds with >> 15. Positions further out than one pixel past the
    # window read the same edge pixels, so they are pulled in to fit int16.
    cols = np.clip(ix - left, -1, right - left).astype(np.int16)
    rows = np.clip(iy - top, -1, bottom - top).astype(np.int16)
    fractions = ((y & 31) * SUBPIXEL + (x & 31)).astype(np.uint16)
    return cv2.remap(gray, np.stack([cols, rows], -1), fractions, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
