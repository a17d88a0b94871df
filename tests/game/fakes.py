"""A scripted Recognizer for server tests: the frame's pixels say how many faces it has and how happy they are."""

from __future__ import annotations

import cv2
import numpy as np

from ferkit.infer import FacePrediction
from ferkit.labels import EMOTIONS
from ferkit.vision.detect import FaceBox


def scripted_frame(faces: int, happy: float, size: tuple[int, int] = (64, 48)) -> bytes:
    """A PNG whose pixel (0,0) holds the face count and pixel (0,1) the happy probability ×250."""
    image = np.zeros((size[1], size[0], 3), np.uint8)
    image[0, 0] = faces
    image[0, 1] = round(happy * 250)
    return cv2.imencode(".png", image)[1].tobytes()


class ScriptedRecognizer:
    class_names = EMOTIONS
    judge = None  # no judge curves: rounds score the raw probability
    identity = "scripted recognizer"  # what the leaderboard records as the judge

    def detect(self, image: np.ndarray, *, max_faces=None, stop=None, min_size=None) -> list[FaceBox]:
        return [FaceBox(4 * k, 4, 8, 8, 0.99) for k in range(int(image[0, 0, 0]))]

    def classify(self, image: np.ndarray, boxes: list[FaceBox]) -> list[FacePrediction]:
        happy = float(image[0, 1, 0]) / 250
        rest = (1 - happy) / (len(EMOTIONS) - 1)
        probabilities = {name: happy if name == "happy" else rest for name in EMOTIONS}
        return [FacePrediction(box, probabilities) for box in boxes]

    def predict(self, image: np.ndarray) -> list[FacePrediction]:
        return self.classify(image, self.detect(image))


class StallingRecognizer(ScriptedRecognizer):
    """Its detection never ends by itself: it runs until the analysis' StopSignal fires (or 30 s)."""

    def __init__(self) -> None:
        import threading

        self.started, self.stopped = threading.Event(), threading.Event()
        self.stop_reasons: list[str] = []

    def detect(self, image: np.ndarray, *, max_faces=None, stop=None, min_size=None) -> list[FaceBox]:
        import time

        from ferkit.vision.stop import AnalysisStopped, check

        self.started.set()
        give_up = time.monotonic() + 30
        try:
            while time.monotonic() < give_up:
                check(stop)
                time.sleep(0.01)
        except AnalysisStopped as e:
            self.stop_reasons.append(e.reason)
            self.stopped.set()
            raise
        return []


class ScriptedFerplusRecognizer(ScriptedRecognizer):
    """The same scripted frames, read by a FER+ model: 8 classes with FER+'s names; pixel (0,1) is happiness."""

    from ferkit.labels import FERPLUS_EMOTIONS as class_names

    def classify(self, image: np.ndarray, boxes: list[FaceBox]) -> list[FacePrediction]:
        happy = float(image[0, 1, 0]) / 250
        rest = (1 - happy) / (len(self.class_names) - 1)
        probabilities = {name: happy if name == "happiness" else rest for name in self.class_names}
        return [FacePrediction(box, probabilities) for box in boxes]
