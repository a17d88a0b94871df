"""The face detectors by name (`DETECTORS`) and the protocol they share; `--detector NAME` chooses one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from ferkit.registry import Registry
from ferkit.vision.detect import FaceBox, HaarFaceDetector
from ferkit.vision.mtcnn import MtcnnFaceDetector
from ferkit.vision.stop import StopSignal


class FaceDetector(Protocol):
    """Anything that finds faces; `fer_framing` says how its boxes relate to a FER2013 crop of the same face."""

    fer_framing: float

    def detect(
        self,
        image: np.ndarray,
        *,
        max_faces: int | None = None,
        stop: StopSignal | None = None,
        min_size: float | None = None,  # this call's smallest face in pixels (None: the detector's own)
    ) -> list[FaceBox]: ...


DETECTORS: Registry[Callable[[], FaceDetector]] = Registry("face detector")
DETECTORS.add("mtcnn", "MTCNN cascade on onnxruntime with 5 landmarks (96% recall on the scenes benchmark)",
              MtcnnFaceDetector)  # fmt: skip
DETECTORS.add("mtcnn-fast", "MTCNN, large boxes' crops cut from half- and quarter-size copies: ~1.2 ms less a "
              "640×480 photo, the same recall on the scenes benchmark (the page's port follows it)",
              lambda: MtcnnFaceDetector(shrunk_crops=True))  # fmt: skip
DETECTORS.add("haar", "OpenCV's frontal-face Haar cascade (no neural network): upright frontal faces only",
              HaarFaceDetector)  # fmt: skip
DEFAULT_DETECTOR = "mtcnn"


def create_detector(name: str = DEFAULT_DETECTOR) -> FaceDetector:
    """A registered detector with its default settings; an unknown name lists the valid ones."""
    return DETECTORS.get(name)()
