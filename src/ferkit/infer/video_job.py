"""One video or camera analysed as a stream: tracked faces per frame, an annotated .mp4 and a timeline as it goes.

`VideoJob` does the work and yields each frame's result; whoever runs it (the CLI) decides what to print.
One frame is in memory at a time, whatever the video's length.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ferkit.infer.annotate import annotate
from ferkit.infer.recognizer import Recognizer
from ferkit.infer.timeline import TimelineWriter
from ferkit.infer.video import Track, VideoFrame, read_video, track_video, video_length


@dataclass(frozen=True)
class VideoOptions:
    stride: int = 1
    smoothing: float = 0.6
    detect_every: int = 1  # run the detector on every k-th analysed frame; follow the faces in between
    reidentify_seconds: float = 10.0  # a face back where one left within this long keeps that one's identity
    start: float = 0.0
    end: float | None = None
    timeline: Path | None = None  # a folder for timeline.csv, summary.json, timeline.png, index.html
    annotated: Path | None = None  # the annotated .mp4 to write
    draw: bool = False  # annotate frames even without a file to write them to (a window shows them)


@dataclass(frozen=True)
class FrameResult:
    frame: VideoFrame
    tracks: list[Track]
    drawn: np.ndarray | None  # the annotated frame, when anything needs it


class VideoJob:
    """Set up (a timeline to resume, the frames to do), then iterate `run()`; `close()` writes the rest."""

    def __init__(self, recognizer: Recognizer, source: str | Path | int, options: VideoOptions) -> None:
        self.recognizer, self.source, self.options = recognizer, source, options
        self.camera = isinstance(source, int)
        self.total_frames, self.fps = (0, 30.0) if self.camera else video_length(source)  # type: ignore[arg-type]
        end = options.end if options.end is not None else (self.total_frames / self.fps or None)
        self.timeline = None
        if options.timeline is not None:
            span = None if end is None else end - options.start
            self.timeline = TimelineWriter(options.timeline, recognizer.class_names, duration_s=span, resume=True)
        self.first_frame = self.timeline.start_frame if self.timeline else 0
        self._writer: cv2.VideoWriter | None = None

    @property
    def frames_to_do(self) -> int | None:
        """How many frames `run()` will analyse (None for a camera or a file that does not say)."""
        if self.camera or not self.total_frames:
            return None
        o = self.options
        start = max(self.first_frame, round(o.start * self.fps))
        stop = self.total_frames if o.end is None else min(self.total_frames, round(o.end * self.fps) + 1)
        return max(0, -(-(stop - start) // o.stride))

    def run(self) -> Iterator[FrameResult]:
        o = self.options
        frames = read_video(self.source, o.stride, start_s=o.start, end_s=o.end, first_frame=self.first_frame)
        draw = o.draw or o.annotated is not None or self.timeline is not None
        reidentify = round(o.reidentify_seconds * self.fps / o.stride)
        for frame, tracks in track_video(self.recognizer, frames, o.smoothing, o.detect_every, reidentify):
            drawn = annotate(frame.image, [t.prediction for t in tracks]) if draw else None
            if o.annotated is not None and drawn is not None:
                self._write_annotated(drawn)
            if self.timeline is not None:
                self.timeline.write(frame.index, frame.seconds, tracks, drawn)
            yield FrameResult(frame, tracks, drawn)

    def _write_annotated(self, drawn: np.ndarray) -> None:
        if self._writer is None:
            self.options.annotated.parent.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            height, width = drawn.shape[:2]
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            self._writer = cv2.VideoWriter(str(self.options.annotated), fourcc, 25.0 / self.options.stride,
                                           (width, height))  # fmt: skip
        self._writer.write(drawn)

    def close(self) -> dict | None:
        """Finish the annotated video and the timeline (summary, plot, page); the timeline's summary."""
        if self._writer is not None:
            self._writer.release()
        return self.timeline.close() if self.timeline is not None else None
