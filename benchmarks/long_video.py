"""Long videos at constant memory: build a clip from real FER2013 faces, stream it through `ferkit predict
--timeline`, and print frames/s and peak RSS — for two lengths, so memory growth with length shows.

The clip: 1280×720 at 25 fps, a face whose expression changes every few seconds (neutral, happy, surprise,
sad, angry: PrivateTest faces the shipped model is sure of) and a second face that comes and goes.

Usage: python benchmarks/long_video.py [--minutes 1,10] [--stride 1] [--detect-every 1] [--data ...]
       [--keep DIR]   (keeps the last clip's timeline folder: timeline.png is the README's figure)
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fer2013.tar.gz"
SEQUENCE = ("neutral", "happy", "surprise", "sad", "angry")


def build_clip(path: Path, minutes: float, data: Path, fps: int = 25) -> int:
    """Write the clip frame by frame (never held in memory); return its frame count."""
    sys.path.insert(0, str(ROOT))
    from tests.game.webcam import confident_faces

    from ferkit.data import load_faces

    test = load_faces(data).split("PrivateTest")
    faces = np.asarray(test.faces)
    main = [cv2.resize(confident_faces(faces, test.labels, n, 1)[0], (300, 300), interpolation=cv2.INTER_CUBIC)
            for n in SEQUENCE]  # fmt: skip
    other = cv2.resize(confident_faces(faces, test.labels, "happy", 1)[0], (240, 240), interpolation=cv2.INTER_CUBIC)
    background = cv2.GaussianBlur(np.random.default_rng(0).integers(60, 200, (720, 1280), dtype=np.uint8), (0, 0), 8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (1280, 720))
    total = round(minutes * 60 * fps)
    for k in range(total):
        frame = background.copy()
        frame[200:500, 200:500] = main[(k // (4 * fps)) % len(main)]  # a new expression every 4 s
        if (k // (7 * fps)) % 2 == 1:  # the second face: 7 s in view, 7 s away
            frame[230:470, 800:1040] = other
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    return total


def run_predict(clip: Path, timeline: Path, stride: int, detect_every: int) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `ferkit predict CLIP --timeline` in a fresh process."""
    code = (
        "import resource, sys; from ferkit.cli import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print('peak_rss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, "predict", str(clip), "--timeline", str(timeline), "--stride", str(stride),
         "--detect-every", str(detect_every)],
        capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    peak = [line for line in result.stderr.splitlines() if line.startswith("peak_rss_kb")]
    if result.returncode != 0 or not peak:
        raise SystemExit(f"predict failed: {result.stderr[-2000:]}")
    return seconds, int(peak[0].split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", default="1,10")
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--detect-every", type=int, default=1, help="ferkit predict --detect-every N")
    args = parser.parse_args()
    print(f"{'minutes':>7} {'frames':>7} {'analysed':>8} {'seconds':>8} {'frames/s':>9} {'peak RSS MB':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in (float(m) for m in args.minutes.split(",")):
            clip = Path(tmp) / f"clip-{minutes:g}min.mp4"
            frames = build_clip(clip, minutes, args.data)
            timeline = Path(tmp) / f"timeline-{minutes:g}"
            seconds, peak = run_predict(clip, timeline, args.stride, args.detect_every)
            analysed = -(-frames // args.stride)
            print(f"{minutes:7g} {frames:7d} {analysed:8d} {seconds:8.1f} {analysed / seconds:9.1f} {peak:12.0f}")
            clip.unlink()
            if args.keep is not None:
                shutil.rmtree(args.keep, ignore_errors=True)
                shutil.copytree(timeline, args.keep)
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB peak, building clips)")


if __name__ == "__main__":
    main()
