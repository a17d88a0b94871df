"""Where a photo's time goes: milliseconds per stage of `Recognizer().predict` on a 640×480 frame with one face.

The frame is benchmarks/latency.py's (one 200 px FER2013 face, or a drawn one without the data). Each stage
is timed inside the real pipeline by wrapping it, over --repeats photos after one warm-up; the sum of the
stages is less than the total by the glue between them. Where the detector owns both cores, part of the
P-Net, R-Net and O-Net stages runs on the second one, inside those stages' figures.
Usage: python benchmarks/photo_stages.py [--repeats 100] [--min-size 40] [--data fer2013.tar.gz] [--detector mtcnn-fast]
       [--model default-int8]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from latency import DEFAULT, one_face_frame

from ferkit.infer import Recognizer


def timed(seconds: dict[str, float], name: str, function: Callable) -> Callable:
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[name] += time.perf_counter() - start

    return wrapper


class TimedSession:
    """An onnxruntime session whose run() is timed under `name`."""

    def __init__(self, session, seconds: dict[str, float], name: str) -> None:
        self._session, self.run = session, timed(seconds, name, session.run)

    def __getattr__(self, attribute: str):
        return getattr(self._session, attribute)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--min-size", type=float, default=None)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--detector", default="mtcnn", help="a registered MTCNN detector: mtcnn or mtcnn-fast")
    parser.add_argument("--model", default="default", help="a shipped model's name (default-int8, ...) or an .onnx")
    args = parser.parse_args()
    frame = one_face_frame(args.data)
    recognizer = Recognizer(args.model, detector=args.detector)
    detector = recognizer.detector
    recognizer.predict(frame, min_size=args.min_size)  # warm-up
    seconds: dict[str, float] = defaultdict(float)
    # stages timed on the calling thread, as wall time: where a detector uses a second core (the largest
    # pyramid level beside the others, half of the R-/O-Net crops), that work overlaps these figures
    detector._stage1 = timed(seconds, "P-Net stage (pyramid, P-Net, NMS)", detector._stage1)
    detector._equalized_rgb = timed(seconds, "equalise (CLAHE on LAB lightness)", detector._equalized_rgb)
    run_batched = detector._run_batched
    stage_names = {24: "R-Net stage (crops + net)", 48: "O-Net stage (crops + net)"}

    def timed_stage(net, rgb, boxes, size, stop):
        return timed(seconds, stage_names[size], run_batched)(net, rgb, boxes, size, stop)

    detector._run_batched = timed_stage
    recognizer.classifier.session = TimedSession(recognizer.classifier.session, seconds, "classifier network")
    recognizer.classify = timed(seconds, "crop + classify (with the network)", recognizer.classify)
    start = time.perf_counter()
    for _ in range(args.repeats):
        faces = recognizer.predict(frame, min_size=args.min_size)
    total = (time.perf_counter() - start) / args.repeats * 1000
    print(f"one 640×480 photo, {len(faces)} face found, mean of {args.repeats}: {total:.1f} ms ({1000 / total:.1f}/s)")
    for name, spent in seconds.items():
        print(f"  {name:38s} {spent / args.repeats * 1000:6.2f} ms")
    crops_by_box_size(detector, frame, args.repeats)


def crops_by_box_size(detector, frame, repeats: int) -> None:
    """Where R-Net's crop time goes: its candidates' crops timed by box size, on one core."""
    from ferkit.vision.mtcnn import ShrunkCopies, _crops

    equalized = detector._equalized_rgb(frame)
    source = ShrunkCopies(equalized) if detector.shrunk_crops else equalized
    boxes = detector._stage1(source, None, detector.min_size)
    sides = boxes[:, 2] - boxes[:, 0]
    print(f"R-Net's {len(boxes)} candidates' crops (24×24), one core, mean of {repeats}:")
    for name, chosen in (("boxes up to 150 px", sides <= 150), ("boxes over 150 px", sides > 150)):
        start = time.perf_counter()
        for _ in range(repeats):
            _crops(source, boxes[chosen], 24)
        print(f"  {int(chosen.sum()):3d} {name:34s} {(time.perf_counter() - start) / repeats * 1000:6.2f} ms")


if __name__ == "__main__":
    main()
