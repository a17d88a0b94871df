"""Server settings for the REST API and the game, with defaults that work; the CLI maps flags onto them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

INFERENCE_MODES = ("browser", "server")


@dataclass(frozen=True)
class ServerSettings:
    model: str = "default"  # a shipped model (weights.SHIPPED_MODELS) or a path to another ferkit ONNX export
    detector: str = "mtcnn"  # a name in ferkit.vision.DETECTORS
    # the smallest face (pixels across) looked for, on the server and in the page (Recognizer's min_face); None:
    # the detector's own minimum. Larger is cheaper: the finest pyramid levels are skipped
    min_face: float | None = None
    tta: str = "none"  # "flip": REST answers average each face and its mirror (the game then scores on the server)
    # "balanced": the model's stored decision rule (weights/decision_rule.py; its judge curves were fitted
    # under it); "as-trained": the plain softmax
    rule: str = "balanced"
    leaderboard_path: Path | None = None  # None: best-actor.sqlite3 in the user's data directory
    rounds: int = 5
    countdown_seconds: float = 3.0
    capture_seconds: float = 3.0  # of frames with exactly one face: the clock waits while no face is in view
    fps: int = 10  # frames per second the page sends
    max_upload_bytes: int = 10 * 1024 * 1024  # POST /v1/predict
    max_frame_bytes: int = 512 * 1024  # one webcam JPEG over the WebSocket
    max_frames_per_second: float = 25.0  # per player; frames beyond it are dropped with a message
    max_faces: int = 20  # per image; more are cut, and the response says so
    # Resource bounds (README: "Limits"). Any upload costs at most one analysis of a
    # `max_analysis_pixels` image, bounded in time; at most `max_concurrent_analyses` run at once.
    max_analysis_pixels: int = 4_000_000  # larger photos are shrunk before detection (boxes still in full size)
    max_concurrent_analyses: int = min(8, os.cpu_count() or 2)
    # onnxruntime threads per call: analyses already run side by side, one per worker thread (0: per core)
    onnx_threads: int = 1
    analysis_seconds: float = 6.0  # an analysis still running after this is stopped (REST 422)
    upload_wait_seconds: float = 3.0  # a REST upload waits this long for a free analysis slot, then 503
    frame_wait_seconds: float = 0.5  # a game frame waits this long, then is dropped with a "busy" message
    # Connections (uvicorn). Over max_connections new HTTP requests get 503; over max_players new game
    # sockets are closed with 1013 ("try again later"). A request head must arrive within
    # request_head_timeout_s of connecting (or of the previous response), a body within request_body_timeout_s.
    # With inference in the browser a player's socket is nearly idle (a claim every few seconds), so one small
    # server hosts hundreds (benchmarks/game_load.py --inference browser); analyses stay bounded by the slots.
    # Worst case memory in socket buffers: max_connections × the 4 × max_frame_bytes message limit (1.3 GB).
    max_connections: int = 640
    max_players: int = 512
    request_head_timeout_s: float = 10.0
    request_body_timeout_s: float = 30.0  # a 10 MB upload at 350 KB/s
    keep_alive_seconds: int = 5  # an idle keep-alive connection is closed after this
    allowed_origins: tuple[str, ...] = ()  # pages that may use the game socket besides the server's own origin
    seed: int | None = None  # for the target draw; None: a fresh game every time
    targets: tuple[str, ...] = ()  # fixed targets instead of a draw (tests, practice); the model's class names
    contempt_rounds: bool = False  # a FER+ model's contempt: off by default (few players know how to act it)
    # "browser": the page runs detector and model itself (frames never leave the device) and the server
    # re-scores each round's best frames; "server": the page sends every frame. Browser inference needs an
    # MTCNN detector (mtcnn or mtcnn-fast: the page's port, game/on_device.has_page_port); with another
    # detector the server scores every frame.
    inference: str = "browser"
    # a page's claimed round score may differ from the server's re-score of the same frames by this much
    # (the verification frames travel as JPEG; benchmarks and tests/game/test_claims.py measure the gap)
    claim_tolerance: int = 10

    def __post_init__(self) -> None:
        if self.inference not in INFERENCE_MODES:
            raise ValueError(f"inference must be one of {', '.join(INFERENCE_MODES)}, not {self.inference!r}")

    @property
    def browser_inference(self) -> bool:
        """Whether pages are offered inference on the device, where the detector has a page port
        (on_device.browser_ready checks the detector object itself)."""
        # the page classifies each face once: with TTA on the server its claims would not match
        return self.inference == "browser" and self.tta == "none"

    @property
    def frames_per_round(self) -> int:
        return max(1, round(self.capture_seconds * self.fps))
