"""Detect + classify frames per second in the page: headless Chromium runs the game's own Recognizer.

Starts `ferkit serve` in its own process, opens the game page in headless Chromium (Playwright, Debian's
/usr/bin/chromium), and times the page's per-frame work at the game's capture size (a 320×240 canvas,
one face about 110 px tall from the README's NASA photo): canvas pixels → MTCNN → crop → classifier, on
onnxruntime-web's WebAssembly, single-threaded and with threads (the server sends the cross-origin
isolation headers that threads need). Two ways, taking turns: every frame searched for faces of any size,
and the stream as the game analyses it (3 frames in 4 look only for faces at least half the size of the
face just found: ferkit.vision.following). Prints ms per frame (mean, p50, p90) and frames/s; the Python
Recognizer on the same frame is timed in the same run for comparison.
Usage: python benchmarks/browser_fps.py [--frames 100] [--threads 1,2] [--model default-int8]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from serve_process import free_port, start_server

PHOTO = Path(__file__).resolve().parents[1] / "docs" / "predict-astronaut.jpg"
CHROMIUM = os.environ.get("FERKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
TIME_IN_PAGE = """async ([png, frames, threads]) => {
  const { loadLocalRecognizer, rgbOfCanvas } = await import("/static/local_play.mjs");
  const { followedMinSize } = await import("/static/faces.mjs");
  const vision = await (await fetch("/api/vision")).json();
  const recognizer = await loadLocalRecognizer(vision, threads);
  const blob = await (await fetch("data:image/png;base64," + png)).blob();
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const times = { full: [], game: [] };
  const faces = { full: 0, game: 0 };
  const state = { full: { followed: [], n: 0 }, game: { followed: [], n: 0 } };
  // the two ways take turns in blocks of 10 frames, so that a noisy machine slows both alike
  for (let block = 0; block < 2 + 2 * Math.ceil(frames / 10); block++) {
    const mode = block % 2 ? "game" : "full";
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      canvas.getContext("2d", { willReadFrequently: true }).drawImage(bitmap, 0, 0);  // as the game grabs video
      const s = state[mode];
      // "game": as game.js analyses its stream; "full": every frame searched for faces of any size
      const minSize = mode === "game" ? followedMinSize(s.followed, s.n++, vision.following) : null;
      const analysis = await recognizer.analyse(rgbOfCanvas(canvas), vision.max_faces, minSize);
      s.followed = analysis.faces.map((face) => face.box);
      if (block >= 2 && times[mode].length < frames) times[mode].push(performance.now() - start);  // 2 blocks warm up
      faces[mode] = analysis.faces.length;
    }
  }
  return { times, faces, threads: recognizer.threads, isolated: crossOriginIsolated };
}"""


def webcam_frame() -> np.ndarray:
    """320×240 as a webcam frames a player: the photo's face about 110 px tall, centred."""
    from ferkit.infer import Recognizer

    photo = cv2.imread(str(PHOTO))
    (face,) = Recognizer().predict(photo)[:1]
    b = face.box
    side = round(2.2 * b.h)
    cx, cy = b.x + b.w // 2, b.y + b.h // 2
    padded = cv2.copyMakeBorder(photo, side, side, side, side, cv2.BORDER_REPLICATE)
    square = padded[cy + side - side // 2 : cy + side + side // 2, cx + side - side // 2 : cx + side + side // 2]
    frame = np.full((240, 320, 3), 120, np.uint8)
    frame[:, 40:280] = cv2.resize(square, (240, 240), interpolation=cv2.INTER_AREA)
    return frame


def summary(label: str, times: list[float]) -> str:
    times = sorted(times)
    mean = statistics.mean(times)
    p50, p90 = times[len(times) // 2], times[int(len(times) * 0.9)]
    return f"{label:<48} {mean:7.1f} ms/frame  p50 {p50:6.1f}  p90 {p90:6.1f}  {1000 / mean:5.1f} frames/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--threads", default="1,2", help="comma-separated WebAssembly thread counts")
    parser.add_argument("--model", default="default", help="the model the server serves and the page runs")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from ferkit.infer import Recognizer

    frame = webcam_frame()
    png = base64.b64encode(cv2.imencode(".png", frame)[1].tobytes()).decode()
    recognizer = Recognizer(args.model)
    python_times = []
    for i in range(args.frames + 3):
        start = time.perf_counter()
        found = recognizer.classify(frame, recognizer.detect(frame, max_faces=2)[:2])
        if i >= 3:
            python_times.append(1000 * (time.perf_counter() - start))
    print(f"frame 320×240, {len(found)} face; {os.cpu_count()} CPU cores; Chromium {CHROMIUM}")
    print(summary("Python Recognizer (onnxruntime)", python_times))
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(str(Path(tmp) / "lb.sqlite3"), port, args.model)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
                for threads in (int(t) for t in args.threads.split(",")):
                    page = browser.new_page()  # a fresh page: onnxruntime-web fixes its thread count once
                    page.goto(f"http://127.0.0.1:{port}/")
                    result = page.evaluate(TIME_IN_PAGE, [png, args.frames, threads])
                    assert result["faces"] == {"full": 1, "game": 1}, result["faces"]
                    isolated = "" if result["isolated"] else "  (not isolated)"
                    for mode, how in (("full", "every frame searched"), ("game", "as the game follows")):
                        label = f"page, {result['threads']} thread(s), {how}"
                        print(summary(label, result["times"][mode]) + isolated)
                    page.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
