"""Print inference speed on this CPU: the model per face (batch 1, batch 64; fp32 and int8) and the full
photo pipeline (MTCNN detection + crop + classify) on a 640×480 frame with one face.

Usage: python benchmarks/latency.py [--int8 model.int8.onnx] [--data ../shared/data/fer2013.tar.gz]
       [--extra NAME=model.onnx ...] [--models-only]
(The int8 file comes from `ferkit export runs/cpu/best.pt --int8 --data ... --out model.int8.onnx`.)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from ferkit.face_size import FACE_SIZE
from ferkit.infer import Recognizer
from ferkit.vision import DETECTORS, MtcnnFaceDetector, create_detector
from ferkit.weights import default_model_path
from ferkit.weights.onnx_classifier import OnnxClassifier

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013.tar.gz"


def one_face_frame(data: Path) -> np.ndarray:
    """A 640×480 frame with a FER2013 face of 200 px (a webcam user at arm's length), or a drawn one."""
    frame = cv2.GaussianBlur(np.random.default_rng(0).integers(60, 200, (480, 640), dtype=np.uint8), (0, 0), 6)
    if data.exists():
        from ferkit.data import load_faces

        face = np.asarray(load_faces(data).split("PrivateTest").faces[3])
        frame[140:340, 220:420] = cv2.resize(face, (200, 200), interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def frames_per_second(
    recognizer: Recognizer, frame: np.ndarray, seconds: float = 5.0, min_size: float | None = None
) -> tuple[float, int]:
    recognizer.predict(frame, min_size=min_size)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        faces = recognizer.predict(frame, min_size=min_size)
        count += 1
    return count / (time.perf_counter() - start), len(faces)


def stream_frames_per_second(frame: np.ndarray, detect_every: int, frames: int = 150) -> tuple[float, int]:
    """A stream of `frames` copies of the frame, the face drifting 2 px a frame, through track_video:
    (frames/s, frames on which the face was followed)."""
    from ferkit.infer.video import VideoFrame, track_video

    recognizer = Recognizer()
    recognizer.predict(frame)
    clip = (VideoFrame(k, k / 25, np.roll(frame, 2 * (k % 40), axis=1)) for k in range(frames))
    start, followed = time.perf_counter(), 0
    for _, tracks in track_video(recognizer, clip, detect_every=detect_every):
        followed += len(tracks) == 1
    return frames / (time.perf_counter() - start), followed


def latency_ms(onnx_path: str | Path, batch: int, repeats: int = 50) -> float:
    """Median milliseconds per call of one onnxruntime session at this batch size."""
    classifier = OnnxClassifier(onnx_path)
    faces = np.random.default_rng(0).integers(0, 256, (batch, FACE_SIZE, FACE_SIZE), dtype=np.uint8)
    classifier.predict_proba(faces)  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        classifier.predict_proba(faces)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--int8", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--extra", nargs="*", default=[], metavar="NAME=FILE", help="more .onnx models, timed alone")
    parser.add_argument("--models-only", action="store_true", help="time the models alone, not the pipeline")
    args = parser.parse_args()
    models = [("fp32 (shipped)", default_model_path())] + ([("int8", args.int8)] if args.int8 else [])
    extra = []
    for item in args.extra:
        name, _, path = item.partition("=")
        if not path or not Path(path).is_file():
            parser.error(f"--extra {item!r}: expected NAME=FILE with an existing .onnx file")
        extra.append((name, Path(path)))
    print("model alone (onnxruntime, this CPU):")
    for name, path in models + extra:
        one, batch = latency_ms(path, 1, 200), latency_ms(path, 64, 30)
        print(f"  {name:15s} batch 1: {one:.2f} ms/face   batch 64: {batch:.1f} ms ({64_000 / batch:,.0f} faces/s)")
    if args.models_only:
        return
    frame = one_face_frame(args.data)
    print("full pipeline, 640×480 frame with one 200 px face (detect + crop + classify):")
    detectors = [(entry.name, create_detector(entry.name)) for entry in DETECTORS]
    for detector_name, detector in [*detectors, ("mtcnn, min face 80", MtcnnFaceDetector(min_size=80))]:
        for name, path in models:
            fps, found = frames_per_second(Recognizer(path, detector=detector), frame)
            print(f"  {detector_name:18s} + {name:15s} {fps:6.1f} frames/s ({1000 / fps:.1f} ms; {found} face found)")
    print("a stream (150 frames, the face drifting): MTCNN on every N-th frame, faces followed in between:")
    for every in (1, 3, 5):
        fps, followed = stream_frames_per_second(frame, every)
        print(f"  --detect-every {every}: {fps:6.1f} frames/s ({followed}/150 frames with the face)")


if __name__ == "__main__":
    main()
