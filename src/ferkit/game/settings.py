"""Server settings for the REST API and the game, with defaults that work; the CLI maps flags onto them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerSettings:
    model: str = "default"  # the shipped ONNX model, or a path to another ferkit ONNX export
    leaderboard_path: Path | None = None  # None: best-actor.sqlite3 in the user's data directory
    rounds: int = 5
    countdown_seconds: float = 3.0
    capture_seconds: float = 3.0  # of frames with exactly one face: the clock waits while no face is in view
    fps: int = 10  # frames per second the page sends
    max_upload_bytes: int = 10 * 1024 * 1024  # POST /v1/predict
    max_frame_bytes: int = 512 * 1024  # one webcam JPEG over the WebSocket
    max_frames_per_second: float = 25.0  # per player; frames beyond it are dropped with a message
    max_faces: int = 20  # per image; more are cut, and the response says so
    seed: int | None = None  # for the target draw; None: a fresh game every time
    targets: tuple[str, ...] = ()  # fixed targets instead of a draw (tests, practice)

    @property
    def frames_per_round(self) -> int:
        return max(1, round(self.capture_seconds * self.fps))
