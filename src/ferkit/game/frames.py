"""One camera frame or uploaded photo through the Recognizer, and what the player is told about it."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import cv2
import numpy as np

from ferkit.imagefile import decode_image_within
from ferkit.infer import FacePrediction, Recognizer
from ferkit.vision.detect import FaceBox
from ferkit.vision.stop import StopSignal

STATUS_MESSAGES = {
    "ok": "",
    "no_face": "No face in view: look into the camera.",
    "many_faces": "More than one face in view: one actor at a time.",
}


@dataclass(frozen=True)
class FrameResult:
    image: np.ndarray
    faces: list[FacePrediction]
    faces_found: int  # before the cap: more than len(faces) when the image had too many
    full_size: tuple[int, int] | None = None  # (width, height) of the upload, when the pixel budget shrank it

    @property
    def scale(self) -> float:
        """How much smaller `image` (where the boxes are) is than the upload."""
        return self.image.shape[1] / self.full_size[0] if self.full_size else 1.0

    @property
    def status(self) -> str:
        return "no_face" if not self.faces else "many_faces" if len(self.faces) > 1 else "ok"

    def to_dict(self) -> dict:
        """What clients see: sizes and boxes in the upload's own pixels, whatever the analysis shrank."""
        width, height = self.full_size or (self.image.shape[1], self.image.shape[0])
        return {
            "width": width,
            "height": height,
            "faces": [face.scaled(1 / self.scale).to_dict() for face in self.faces],
            "faces_found": self.faces_found,
            "truncated": self.faces_found > len(self.faces),
            "status": self.status,
            "message": STATUS_MESSAGES[self.status],
        }


def analyse(
    recognizer: Recognizer,
    raw: bytes,
    max_faces: int,
    source: str = "frame",
    *,
    max_pixels: int = 4_000_000,
    stop: StopSignal | None = None,
    min_size: float | None = None,
) -> FrameResult:
    """Decode within the pixel budget (DataError subclasses for bad bytes), find faces, classify ≤ max_faces.

    `stop` ends the work early with AnalysisStopped (deadline passed, or the client left); `min_size`: look
    for no face smaller (a game stream's frames, ferkit.vision.following).
    """
    image, full_size = decode_image_within(raw, max_pixels, source)
    boxes = recognizer.detect(image, max_faces=max_faces, stop=stop, min_size=min_size)
    faces = recognizer.classify(image, boxes[:max_faces])
    shrunk = full_size != (image.shape[1], image.shape[0])
    return FrameResult(image, faces, len(boxes), full_size if shrunk else None)


def thumbnail_data_url(image: np.ndarray, box: FaceBox, side: int = 96) -> str:
    """The face with a little margin, side×side, as a JPEG data URL for the results screen."""
    margin = max(box.w, box.h) * 0.2
    x0, y0 = max(0, int(box.x - margin)), max(0, int(box.y - margin))
    x1, y1 = min(image.shape[1], int(box.x + box.w + margin)), min(image.shape[0], int(box.y + box.h + margin))
    crop = image[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else image
    ok, jpeg = cv2.imencode(".jpg", cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA))
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode() if ok else ""
