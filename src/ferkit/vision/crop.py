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
    if abs(angle) > 1.0:  # one warp does rotate + crop; the border is replicated like the unrotated path
        matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
        matrix[:, 2] += (side / 2 - cx, side / 2 - cy)
        square = cv2.warpAffine(
            to_gray(image), matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        return to_face48(square)
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
