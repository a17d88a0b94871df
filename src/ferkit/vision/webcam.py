"""Webcam-like frames of a dataset face: how the game sees a player, for fitting and measuring the judge."""

from __future__ import annotations

import cv2
import numpy as np

from ferkit.webcam_light import GAMMA, LIGHT


def webcam_frame(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 640×480 BGR frame with the gray face at arm's length, in a webcam's light, blur and compression.

    Varies per call: framing (size 150-260 px, position, ±6° tilt), gamma and low light, sensor noise,
    blur and JPEG quality 55-85.
    """
    scene = cv2.GaussianBlur(rng.integers(40, 200, (480, 640), dtype=np.uint8), (0, 0), 8)
    side = int(rng.integers(150, 260))
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    rot = cv2.getRotationMatrix2D((side / 2, side / 2), float(rng.uniform(-6, 6)), 1.0)
    big = cv2.warpAffine(big, rot, (side, side), borderMode=cv2.BORDER_REPLICATE)
    x = int(rng.integers(80, 640 - side - 80))
    y = int(rng.integers(20, 480 - side - 20))
    scene[y : y + side, x : x + side] = big
    frame = scene.astype(np.float32)
    frame = 255 * (frame / 255) ** rng.uniform(*GAMMA) * rng.uniform(*LIGHT)  # gamma, low light
    frame += rng.normal(0, rng.uniform(2, 7), frame.shape)  # sensor noise
    frame = cv2.GaussianBlur(np.clip(frame, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.3, 1.4))
    _, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 85))])
    return cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)


def frame_probabilities(recognizer, face: np.ndarray, rng: np.random.Generator, frames: int) -> np.ndarray:
    """`frames` webcam-like frames of one face through detect → crop → classify: frames × classes.

    The largest face found counts; a frame where none is found gives zeros (the game's clock would wait).
    """
    rows = []
    for _ in range(frames):
        found = recognizer.predict(webcam_frame(face, rng))
        best = max(found, key=lambda f: f.box.w * f.box.h) if found else None
        rows.append(
            [best.probabilities[n] for n in recognizer.class_names] if best else [0.0] * len(recognizer.class_names)
        )
    return np.array(rows)
