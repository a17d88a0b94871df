"""Expressions over time: faces tracked from frame to frame (by box overlap), probabilities smoothed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ferkit.errors import DataError
from ferkit.infer.recognizer import FacePrediction, Recognizer
from ferkit.vision.detect import FaceBox
from ferkit.vision.following import followed_min_size

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})


@dataclass(frozen=True)
class VideoFrame:
    index: int
    seconds: float
    image: np.ndarray


def read_video(
    source: str | Path | int, stride: int = 1, *, start_s: float = 0.0, end_s: float | None = None, first_frame: int = 0
) -> Iterator[VideoFrame]:
    """Frames of a video file, or of a camera when `source` is its index: every `stride`-th frame from
    `start_s` (or frame `first_frame`, whichever is later) up to `end_s`. One frame in memory at a time;
    skipped frames are grabbed, not decoded into images."""
    capture = cv2.VideoCapture(source if isinstance(source, int) else str(source))
    if not capture.isOpened():
        what = f"camera {source}" if isinstance(source, int) else str(source)
        raise DataError(what, "cannot open it as a video" if not isinstance(source, int) else "no such camera")
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    index = max(first_frame, round(start_s * fps))
    if index and not isinstance(source, int):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    last = None if end_s is None else round(end_s * fps)
    try:
        while last is None or index <= last:
            if (index - first_frame) % stride == 0:
                ok, image = capture.read()
                if not ok:
                    return
                yield VideoFrame(index, index / fps, image)
            elif not capture.grab():
                return
            index += 1
    finally:
        capture.release()


def video_length(source: str | Path) -> tuple[int, float]:
    """(frame count, frames per second) from the file's header (0 frames when it does not say)."""
    capture = cv2.VideoCapture(str(source))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0), capture.get(cv2.CAP_PROP_FPS) or 30.0
    finally:
        capture.release()


def iou(a: FaceBox, b: FaceBox) -> float:
    x1, y1 = max(a.x, b.x), max(a.y, b.y)
    x2, y2 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union else 0.0


@dataclass
class Track:
    track_id: int
    box: FaceBox
    probabilities: dict[str, float]
    missed: int = 0
    frames: int = 1

    @property
    def prediction(self) -> FacePrediction:
        """The track's latest box with its smoothed probabilities."""
        return FacePrediction(self.box, self.probabilities)

    @property
    def label(self) -> str:
        return self.prediction.label

    def to_dict(self) -> dict:
        return {"track": self.track_id, **self.prediction.to_dict()}


@dataclass
class FaceTracker:
    """Matches each frame's faces to the last frame's by IoU; smooths with an exponential moving average.

    `smoothing` is the weight of the past: 0 shows every frame raw, 0.6 steadies the bars over ~5 frames
    at 25 fps without hiding a change of expression for long.
    """

    smoothing: float = 0.6
    min_iou: float = 0.3
    max_missed: int = 5  # frames a face may vanish (a blink of the detector) before its track ends
    # frames an ended track is remembered: a face that comes back where it left, within them, takes its old
    # identity (someone who looked away, or stepped out of view); 0 = a returning face is a new one
    reidentify_frames: int = 0
    tracks: list[Track] = field(default_factory=list)
    ended: list[Track] = field(default_factory=list)
    next_id: int = 0

    def update(self, faces: list[FacePrediction]) -> list[Track]:
        pairs = sorted(
            ((iou(t.box, f.box), ti, fi) for ti, t in enumerate(self.tracks) for fi, f in enumerate(faces)),
            reverse=True,
        )
        used_tracks: set[int] = set()
        used_faces: set[int] = set()
        for overlap, ti, fi in pairs:
            if overlap < self.min_iou or ti in used_tracks or fi in used_faces:
                continue
            used_tracks.add(ti)
            used_faces.add(fi)
            track, face = self.tracks[ti], faces[fi]
            a = self.smoothing
            track.probabilities = {k: a * track.probabilities[k] + (1 - a) * v for k, v in face.probabilities.items()}
            track.box, track.missed, track.frames = face.box, 0, track.frames + 1
        for ti, track in enumerate(self.tracks):
            if ti not in used_tracks:
                track.missed += 1
        for track in self.ended:
            track.missed += 1
        self.ended = [t for t in self.ended if t.missed <= self.reidentify_frames]
        if self.reidentify_frames:
            self.ended += [t for t in self.tracks if t.missed > self.max_missed]
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        for fi, face in enumerate(faces):
            if fi not in used_faces:
                self.tracks.append(self._returning(face) or self._new_track(face))
        return [t for t in self.tracks if t.missed == 0]

    def _returning(self, face: FacePrediction) -> Track | None:
        """An ended track whose last box this face overlaps, revived with the face's probabilities."""
        best = max(self.ended, key=lambda t: iou(t.box, face.box), default=None)
        if best is None or iou(best.box, face.box) < self.min_iou:
            return None
        self.ended.remove(best)
        best.box, best.probabilities, best.missed = face.box, dict(face.probabilities), 0
        best.frames += 1
        return best

    def _new_track(self, face: FacePrediction) -> Track:
        self.next_id += 1
        return Track(self.next_id - 1, face.box, dict(face.probabilities))


def track_video(
    recognizer: Recognizer,
    frames: Iterator[VideoFrame],
    smoothing: float = 0.6,
    detect_every: int = 1,
    reidentify_frames: int = 0,
) -> Iterator[tuple[VideoFrame, list[Track]]]:
    """Each frame's tracked faces. With `detect_every` k > 1 the detector runs on every k-th frame only (and
    whenever no face is being followed); in between, the faces are classified where they were last found —
    detection is most of a frame's cost, so this is ~k times faster for faces that move little per frame.
    Then, too, only every FULL_DETECTION_EVERY-th detection looks for faces of any size; the others look
    for faces at least FOLLOWED_FACE_SHARE of the smallest one followed (ferkit.vision.following; a new
    small face is found within k × FULL_DETECTION_EVERY frames)."""
    tracker = FaceTracker(smoothing=smoothing, reidentify_frames=reidentify_frames)
    for i, frame in enumerate(frames):
        followed = [t.box for t in tracker.tracks if t.missed == 0]
        if i % detect_every == 0 or not followed:
            # the faces being followed set the smallest face to look for: a far smaller pyramid
            min_size = followed_min_size(followed, i // detect_every) if detect_every > 1 else None
            faces = recognizer.predict(frame.image, min_size=min_size)
        else:
            faces = recognizer.classify(frame.image, followed)
        yield frame, tracker.update(faces)
