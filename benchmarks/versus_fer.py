"""ferkit beside the `fer` package, in one run, on the same 640×480 frame with one face.

`fer` (Haar cascade + its TFLite model; needs TensorFlow) cannot share ferkit's environment, so it runs in
the python given by --fer-python (e.g. a venv with `pip install fer tensorflow-cpu "opencv-python-headless<5"`);
without it, ferkit's rows alone are printed. Rows: a photo (the frame analysed again and again for 5 s)
and a stream (150 frames, the face drifting 2 px a frame; fer analyses every frame, ferkit detects every
N-th frame and follows the face in between).
Usage: python benchmarks/versus_fer.py [--fer-python /path/to/venv/bin/python] [--runs 3] [--data fer2013.tar.gz]
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


def one_run(frame, fer_python: str | None) -> list[tuple[str, float, str]]:
    """(pipeline, frames/s, what was found) for every row, fer's first, all on the same frame."""
    rows = []
    if fer_python:
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(tmp) / "frame.png"
            cv2.imwrite(str(png), frame)
            fer = fer_rates(fer_python, png)
        rows.append(("fer (Haar + TFLite), photo", fer["photo"], f"{fer['photo_faces']} face"))
        rows.append(("fer, stream (every frame)", fer["stream"], f"{fer['followed']}/150 frames with the face"))
    photo, found = frames_per_second(Recognizer(), frame)
    rows.append(("ferkit (MTCNN + ONNX), photo", photo, f"{found} face (faces from 40 px)"))
    photo, found = frames_per_second(Recognizer(), frame, min_size=FER_MIN_FACE)
    rows.append((f"ferkit, photo, faces from {FER_MIN_FACE} px", photo, f"{found} face (fer's own minimum)"))
    fast = Recognizer(detector="mtcnn-fast")  # large boxes' crops from shrunk copies
    photo, found = frames_per_second(fast, frame)
    rows.append(("ferkit, photo, --detector mtcnn-fast", photo, f"{found} face (faces from 40 px)"))
    photo, found = frames_per_second(fast, frame, min_size=FER_MIN_FACE)
    rows.append((f"ferkit, mtcnn-fast, faces from {FER_MIN_FACE} px", photo, f"{found} face (fer's own minimum)"))
    fastest = Recognizer("default-int8", detector="mtcnn-fast", min_face=FER_MIN_FACE)  # the shipped int8 classifier
    photo, found = frames_per_second(fastest, frame)
    rows.append(("ferkit, the same, --model default-int8", photo, f"{found} face (fer's own minimum)"))
    for every in (1, 3, 5):
        fps, followed = stream_frames_per_second(frame, every)
        rows.append((f"ferkit, stream --detect-every {every}", fps, f"{followed}/150 frames with the face"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fer-python", default=None, help="a python that can `from fer.fer import FER`")
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--runs", type=int, default=1, help="whole runs one after another (each row's mean too)")
    args = parser.parse_args()
    frame = one_face_frame(args.data)
    runs = [one_run(frame, args.fer_python) for _ in range(args.runs)]
    # each ferkit row beside fer's row of the same kind (photo or stream), as the mean rates' ratio
    fer_rows = enumerate(("photo", "stream")) if args.fer_python else ()
    fer_mean = {kind: sum(run[k][1] for run in runs) / len(runs) for k, kind in fer_rows}
    print(f"640×480 frame, one 200 px face (benchmarks/latency.py's frame), this machine, {args.runs} run(s):")
    print(f"{'pipeline':40s} " + " ".join(f"{'run ' + str(k + 1):>7s}" for k in range(args.runs)) + "     mean")
    for row, (name, _, note) in enumerate(runs[0]):
        rates = [run[row][1] for run in runs]
        mean = sum(rates) / len(rates)
        kind = "stream" if "stream" in name else "photo"
        versus = f" ({mean / fer_mean[kind]:.2f}× fer)" if fer_mean and not name.startswith(("fer ", "fer,")) else ""
        print(f"{name:40s} " + " ".join(f"{r:7.1f}" for r in rates) + f" {mean:8.1f}{versus}  {note}")


if __name__ == "__main__":
    main()
