"""Fake webcams for the game's tests: FER2013 faces placed in 640×480 frames, written as y4m for Chromium."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ferkit.infer import Recognizer
from ferkit.labels import EMOTIONS


def face_frame(face: np.ndarray, side: int = 300, width: int = 640, height: int = 480) -> np.ndarray:
    """A 48×48 face upscaled to side×side in the middle of a plain frame (gray, uint8)."""
    frame = np.full((height, width), 110, np.uint8)
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    y0, x0 = (height - side) // 2, (width - side) // 2
    frame[y0 : y0 + side, x0 : x0 + side] = big
    return frame


def two_faces_frame(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    frame = np.full((480, 640), 110, np.uint8)
    for face, x0 in ((a, 20), (b, 340)):
        frame[100:380, x0 : x0 + 280] = cv2.resize(face, (280, 280), interpolation=cv2.INTER_CUBIC)
    return frame


def confident_faces(
    faces: np.ndarray,
    labels: np.ndarray,
    label: str,
    count: int,
    minimum: float = 0.8,
    model: str = "default",
    class_names: tuple[str, ...] = EMOTIONS,
) -> list:
    """Faces of `label` (labels index `class_names`) that `model`, after detection in a frame, calls `label`
    with ≥ minimum."""
    recognizer = Recognizer(model)
    picked = []
    for index in np.flatnonzero(labels == class_names.index(label)):
        found = recognizer.predict(cv2.cvtColor(face_frame(faces[index]), cv2.COLOR_GRAY2BGR))
        if len(found) == 1 and found[0].probabilities[label] >= minimum:
            picked.append(faces[index])
            if len(picked) == count:
                break
    return picked


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    """Gray frames as a 4:2:0 y4m file (Chromium's --use-file-for-fake-video-capture loops it)."""
    height, width = frames[0].shape
    chroma = np.full((height // 2) * (width // 2), 128, np.uint8).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n" + np.ascontiguousarray(frame).tobytes() + chroma + chroma)
    return path
