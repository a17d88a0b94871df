"""The Recognizer: detect every face, crop it like the training data, classify it with the ONNX model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ferkit.errors import BadInput, ModelError
from ferkit.infer.judge import METADATA_KEY, JudgeCalibration
from ferkit.vision.crop import crop_face
from ferkit.vision.detect import FaceBox
from ferkit.vision.detectors import DEFAULT_DETECTOR, FaceDetector, create_detector
from ferkit.vision.stop import StopSignal
from ferkit.weights import INT8_FORMS, resolve_model
from ferkit.weights.onnx_classifier import OnnxClassifier


@dataclass(frozen=True)
class FacePrediction:
    box: FaceBox
    probabilities: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return max(self.probabilities, key=self.probabilities.__getitem__)

    def scaled(self, factor: float) -> FacePrediction:
        return self if factor == 1 else FacePrediction(self.box.scaled(factor), self.probabilities)

    def to_dict(self) -> dict:
        b = self.box
        return {
            "box": {"x": b.x, "y": b.y, "w": b.w, "h": b.h},
            "detection_score": b.score,
            "label": self.label,
            "probabilities": self.probabilities,
        }


# Test-time augmentation of each face crop: "flip" also classifies the mirrored face and averages the
# two (the shipped model: PublicTest 71.33% → 71.25%, PrivateTest 71.86% → 72.95%, its card) for twice
# the classifier's work, which is ~1 ms of a photo's ~40.
TTA_CHOICES = ("none", "flip")

# `ferkit predict --fast`: the quickest photo settings measured (benchmarks/versus_fer_paired.py, README "Speed"):
# large boxes' crops from shrunk copies, faces from 50 px only (as `fer` looks), and the int8 classifier (PrivateTest
# 71.83% against fp32's 71.86%; its card). Recognizer(**FAST_SETTINGS) is the same in Python.
FAST_SETTINGS = {"model": INT8_FORMS["default"], "detector": "mtcnn-fast", "min_face": 50.0}


class Recognizer:
    """Thread-safe: onnxruntime sessions may be shared by threads; the detector locks itself."""

    def __init__(
        self,
        model: str | Path = "default",
        detector: FaceDetector | str = DEFAULT_DETECTOR,  # an instance, or a name in vision.DETECTORS
        max_faces: int = 32,
        *,
        # on: the crop is turned so the eyes lie level (MTCNN's landmarks); on 800 built scenes it took the
        # FER+ model's detect→classify gap from 2.1/2.7 to 1.3/0.2 points (PublicTest/PrivateTest)
        level_eyes: bool = True,
        tta: str = "none",
        rule: str = "balanced",
        # the smallest face (pixels across) any call looks for; None: the detector's own minimum. Larger is
        # cheaper (the detector skips its finest pyramid levels): `fer` looks only for faces from 50 px
        min_face: float | None = None,
    ) -> None:
        if tta not in TTA_CHOICES:
            raise BadInput(f"tta must be one of {', '.join(TTA_CHOICES)}, not {tta!r}")
        self.tta = tta
        self.classifier = OnnxClassifier(resolve_model(model), rule=rule)  # weights/decision_rule.py
        self.class_names = self.classifier.class_names
        # the model's own judge curves (ferkit calibrate-judge), or None: raw probabilities then
        raw_judge = self.classifier.metadata.get(METADATA_KEY)
        try:
            self.judge = JudgeCalibration.from_json(raw_judge) if raw_judge else None
        except (ValueError, KeyError, TypeError) as e:
            raise ModelError(f"{model}: its '{METADATA_KEY}' metadata is unreadable ({e})") from None
        self.detector = create_detector(detector) if isinstance(detector, str) else detector
        self.max_faces = max_faces
        self.level_eyes = level_eyes
        if min_face is not None and not min_face > 0:
            raise BadInput(f"min_face must be a positive number of pixels, not {min_face!r}")
        self.min_face = min_face

    @property
    def identity(self) -> str:
        """What decides the scores: the model file's name and content hash (a retrained model is new), its rule, TTA."""
        import hashlib

        digest = hashlib.sha256(self.classifier.path.read_bytes()).hexdigest()[:12]
        return f"{self.classifier.path.name} sha256:{digest} rule:{self.classifier.rule} tta:{self.tta}"

    def predict_faces(self, faces: np.ndarray) -> np.ndarray:
        """N×48×48 uint8 face crops -> N×C probabilities (with flip TTA: the mean over face and mirror)."""
        if self.tta == "flip" and len(faces):
            both = self.classifier.predict_proba(np.concatenate([faces, faces[:, :, ::-1]]))  # one call
            return (both[: len(faces)] + both[len(faces) :]) / 2
        return self.classifier.predict_proba(faces)

    def detect(
        self,
        image: np.ndarray,
        *,
        max_faces: int | None = None,
        stop: StopSignal | None = None,
        min_size: float | None = None,
    ) -> list[FaceBox]:
        """Face boxes in a BGR or gray image, most confident first.

        `max_faces` lets the detector bound its work for crowded images (it may then return somewhat
        more than that, never thousands); `stop` ends the work early (AnalysisStopped).
        """
        if self.min_face is not None:
            min_size = max(min_size or 0.0, self.min_face)
        if min_size is None:  # detectors registered before min_size existed keep working
            return self.detector.detect(image, max_faces=max_faces, stop=stop)
        return self.detector.detect(image, max_faces=max_faces, stop=stop, min_size=min_size)

    def classify(self, image: np.ndarray, boxes: list[FaceBox]) -> list[FacePrediction]:
        """Crop each box like the training data and name its expression."""
        return self.classify_levelled(image, boxes, self.level_eyes)

    def classify_levelled(self, image: np.ndarray, boxes: list[FaceBox], level_eyes: bool) -> list[FacePrediction]:
        if not boxes:
            return []
        framing = self.detector.fer_framing
        crops = np.stack([crop_face(image, box, framing, level_eyes=level_eyes) for box in boxes])
        probs = self.predict_faces(crops)
        return [
            FacePrediction(box, {n: float(p) for n, p in zip(self.class_names, row)}) for box, row in zip(boxes, probs)
        ]

    def classify_each(self, pictures: list[tuple[np.ndarray, FaceBox]]) -> list[FacePrediction]:
        """One face per picture (picture, box), all classified in one batch."""
        if not pictures:
            return []
        framing = self.detector.fer_framing
        crops = np.stack([crop_face(image, box, framing, level_eyes=self.level_eyes) for image, box in pictures])
        return [
            FacePrediction(box, {n: float(p) for n, p in zip(self.class_names, row)})
            for (_, box), row in zip(pictures, self.predict_faces(crops))
        ]

    def predict(self, image: np.ndarray, *, min_size: float | None = None) -> list[FacePrediction]:
        """Every face in a BGR or gray image (at most `max_faces`, most confident first).

        `min_size`: look only for faces at least this many pixels across (cheaper when faces are known
        to be large, as in a video whose faces are being followed).
        """
        boxes = self.detect(image, max_faces=self.max_faces, min_size=min_size)
        return self.classify(image, boxes[: self.max_faces])
