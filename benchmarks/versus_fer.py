"""ferkit beside the `fer` package, in one run, on the same 640×480 frame with one face.

`fer` (Haar cascade + its TFLite model; needs TensorFlow) cannot share ferkit's environment, so it runs in
the python given by --fer-python (e.g. a venv with `pip install fer tensorflow-cpu "opencv-python-headless<5"`);
without it, ferkit's rows alone are printed. Rows: a photo (the frame analysed again and again for 5 s)
and a stream (150 frames, the face drifting 2 px a frame; fer analyses every frame, ferkit detects every
N-th frame and follows the face in between).
Usage: python benchmarks/versus_fer.py [--fer-python /path/to/venv/bin/python] [--data fer2013.tar.gz]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import cv2
from latency import DEFAULT, frames_per_second, one_face_frame, stream_frames_per_second

from ferkit.infer import Recognizer

FER_SCRIPT = r"""
import json, sys, time
import cv2, numpy as np
from fer.fer import FER
detector = FER()
frame = cv2.imread(sys.argv[1])
found = detector.detect_emotions(frame)
count, start = 0, time.perf_counter()
while time.perf_counter() - start < 5:
    detector.detect_emotions(frame)
    count += 1
photo = count / (time.perf_counter() - start)
start, followed = time.perf_counter(), 0
for k in range(150):
    followed += len(detector.detect_emotions(np.roll(frame, 2 * (k % 40), axis=1))) == 1
stream = 150 / (time.perf_counter() - start)
print(json.dumps({"photo": photo, "photo_faces": len(found), "stream": stream, "followed": followed}))
"""


FER_MIN_FACE = 50  # fer.FER's default min_face_size: the smallest face its Haar cascade looks for


def fer_rates(python: str, frame_png: Path) -> dict:
    done = subprocess.run([python, "-c", FER_SCRIPT, str(frame_png)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"fer failed in {python}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fer-python", default=None, help="a python that can `from fer.fer import FER`")
    parser.add_argument("--data", type=Path, default=DEFAULT)
    args = parser.parse_args()
    frame = one_face_frame(args.data)
    rows = []
    if args.fer_python:
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(tmp) / "frame.png"
            cv2.imwrite(str(png), frame)
            fer = fer_rates(args.fer_python, png)
        rows.append(("fer (Haar + TFLite), photo", fer["photo"], f"{fer['photo_faces']} face"))
        rows.append(("fer, stream (every frame)", fer["stream"], f"{fer['followed']}/150 frames with the face"))
    photo, found = frames_per_second(Recognizer(), frame)
    rows.append(("ferkit (MTCNN + ONNX), photo", photo, f"{found} face (faces from 40 px)"))
    photo, found = frames_per_second(Recognizer(), frame, min_size=FER_MIN_FACE)
    rows.append((f"ferkit, photo, faces from {FER_MIN_FACE} px", photo, f"{found} face (fer's own minimum)"))
    for every in (1, 3, 5):
        fps, followed = stream_frames_per_second(frame, every)
        rows.append((f"ferkit, stream --detect-every {every}", fps, f"{followed}/150 frames with the face"))
    print("640×480 frame, one 200 px face (benchmarks/latency.py's frame), this machine, one run:")
    print(f"{'pipeline':40s} {'frames/s':>9s}  ")
    for name, fps, note in rows:
        print(f"{name:40s} {fps:9.1f}  {note}")


if __name__ == "__main__":
    main()
