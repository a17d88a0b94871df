"""Face detectors behind one small interface: an image in, face boxes with a confidence out."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ferkit.errors import SetupError
from ferkit.vision.stop import StopSignal, check


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    w: int
    h: int
    score: float
    # MTCNN's five points, in image pixels: left eye, right eye, nose, left and right mouth corner
    # (left/right as seen in the image). None for detectors without landmarks.
    landmarks: tuple[tuple[float, float], ...] | None = None

    def scaled(self, factor: float) -> FaceBox:
        """The same box in an image `factor` times as large (e.g. back to the full-size upload)."""
        if factor == 1:
            return self
        marks = None if self.landmarks is None else tuple((x * factor, y * factor) for x, y in self.landmarks)
        x, y = round(self.x * factor), round(self.y * factor)
        return FaceBox(x, y, round(self.w * factor), round(self.h * factor), self.score, marks)


def to_gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


class HaarFaceDetector:
    """OpenCV's frontal-face Haar cascade (ships in opencv 4.x wheels).

    A baseline: it finds 42% of the scenes benchmark's faces where MTCNN finds 96% (README; the
    `mtcnn` detector is the default). OpenCV's cascade is not thread-safe, hence the lock.
    """

    fer_framing = 1.04  # a Haar box is ~0.96× the side of the FER2013 crop of the same face

    def __init__(self, min_size: int = 40, scale_factor: float = 1.1, min_neighbors: int = 5) -> None:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise SetupError(f"cannot load the Haar cascade at {path} (OpenCV 5 wheels ship none: use 4.x)")
        self.min_size, self.scale_factor, self.min_neighbors = min_size, scale_factor, min_neighbors
        self._lock = threading.Lock()

    def detect(
        self,
        image: np.ndarray,
        *,
        max_faces: int | None = None,
        stop: StopSignal | None = None,
        min_size: float | None = None,
    ) -> list[FaceBox]:
        """Faces most confident first; one OpenCV call, so `stop` is checked only before it."""
        smallest = round(max(self.min_size, min_size or 0))
        check(stop)
        gray = cv2.equalizeHist(to_gray(image))
        with self._lock:
            boxes, _, weights = self.cascade.detectMultiScale3(
                gray,
                scaleFactor=self.scale_factor,
                minNeighbors=self.min_neighbors,
                minSize=(smallest, smallest),
                outputRejectLevels=True,
            )
        faces = [
            FaceBox(int(x), int(y), int(w), int(h), float(s))
            for (x, y, w, h), s in zip(boxes, np.ravel(weights) if len(boxes) else [])
        ]
        return sorted(faces, key=lambda f: -f.score)
