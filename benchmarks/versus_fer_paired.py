"""A single photo's rate, ferkit beside `fer`, timed in alternating short windows so both see the same machine.

On a shared machine the speed drifts by tens of percent over seconds (other tenants), so pipelines timed one after
the other for 5 s each (benchmarks/versus_fer.py) can differ by the drift alone: in session 33 one such set put a
pipeline at 1.38× `fer` and the next two at 1.59× and 1.61×. Here `fer` runs in its own python as a small server
that times one window when asked (idle between windows); each round times every pipeline for --window seconds, in
a shuffled order, and each ferkit pipeline's rate is divided by fer's rate of the same round. Printed: the median
rate per pipeline, and the median ratio with its quartiles over the rounds.
Usage: python benchmarks/versus_fer_paired.py --fer-python /tmp/fer-venv/bin/python [--rounds 30] [--window 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from latency import DEFAULT, one_face_frame
from versus_fer import FER_MIN_FACE

from ferkit.infer import Recognizer

# Reads "SECONDS" lines; answers each with the photos/s of detect_emotions on the frame over that window.
FER_SERVER = r"""
import json, sys, time
import cv2
from fer.fer import FER
detector = FER()
frame = cv2.imread(sys.argv[1])
found = len(detector.detect_emotions(frame))
print(json.dumps({"faces": found}), flush=True)
for line in sys.stdin:
    seconds, count, start = float(line), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        detector.detect_emotions(frame)
        count += 1
    print(json.dumps({"rate": count / (time.perf_counter() - start)}), flush=True)
"""


class FerServer:
    """`fer` in its own python, timing one window of photos per request."""

    def __init__(self, python: str, frame_png: Path) -> None:
        self.process = subprocess.Popen(
            [python, "-c", FER_SERVER, str(frame_png)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # TensorFlow's start-up chatter
            text=True,
        )
        self.faces = self._answer()["faces"]

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"fer stopped (exit code {self.process.wait()}); run it by hand to see why")
        return json.loads(line)

    def rate(self, seconds: float) -> float:
        self.process.stdin.write(f"{seconds}\n")
        self.process.stdin.flush()
        return self._answer()["rate"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def photo_rate(recognizer: Recognizer, frame: np.ndarray, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        recognizer.predict(frame)
        count += 1
    return count / (time.perf_counter() - start)


def ferkit_pipelines() -> dict[str, Recognizer]:
    return {
        "ferkit, faces from 40 px": Recognizer(),
        f"ferkit, faces from {FER_MIN_FACE} px": Recognizer(min_face=FER_MIN_FACE),
        f"--detector mtcnn-fast --min-face {FER_MIN_FACE}": Recognizer(detector="mtcnn-fast", min_face=FER_MIN_FACE),
        "  the same, --model default-int8": Recognizer("default-int8", detector="mtcnn-fast", min_face=FER_MIN_FACE),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fer-python", required=True, help="a python that can `from fer.fer import FER`")
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--window", type=float, default=1.0, help="seconds each pipeline is timed in a round")
    args = parser.parse_args()
    frame = one_face_frame(args.data)
    pipelines = ferkit_pipelines()
    for recognizer in pipelines.values():
        found = len(recognizer.predict(frame))  # also the warm-up
        assert found == 1, f"expected the frame's one face, found {found}"
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "frame.png"
        cv2.imwrite(str(png), frame)
        fer = FerServer(args.fer_python, png)
    timers: dict[str, Callable[[], float]] = {"fer (Haar + TFLite)": lambda: fer.rate(args.window)}
    for name, recognizer in pipelines.items():
        timers[name] = lambda recognizer=recognizer: photo_rate(recognizer, frame, args.window)
    rng = np.random.default_rng(0)
    rates: dict[str, list[float]] = {name: [] for name in timers}
    try:
        for _ in range(args.rounds):
            for k in rng.permutation(len(timers)):
                name = list(timers)[k]
                rates[name].append(timers[name]())
    finally:
        fer.close()
    fer_rates = np.array(rates["fer (Haar + TFLite)"])
    print(
        f"640×480 frame, one 200 px face (benchmarks/latency.py's frame; fer found {fer.faces}), this machine: "
        f"{args.rounds} rounds, each pipeline timed {args.window:g} s a round in a shuffled order"
    )
    print(f"{'pipeline':44s} {'photos/s (median)':>18s}   ratio to fer in the same round: median [quartiles]")
    for name, values in rates.items():
        line = f"{name:44s} {np.median(values):18.1f}"
        if name != "fer (Haar + TFLite)":
            ratio = np.array(values) / fer_rates
            q1, q2, q3 = np.percentile(ratio, [25, 50, 75])
            line += f"   {q2:.2f}× [{q1:.2f}-{q3:.2f}], below 1.5× in {int((ratio < 1.5).sum())} of {len(ratio)} rounds"
        print(line)


if __name__ == "__main__":
    main()
