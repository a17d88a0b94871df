"""The page's WebAssembly pixel kernels (static/kernels.wasm) against its JavaScript, in Chromium: identical.

kernels.wasm is built from scripts/page_kernels/kernels.ts (scripts/build_page_kernels.sh); imageops.mjs
uses it when loaded and does the same work in JavaScript otherwise. Every result must be the same bytes:
area-shrunk crops (inside, across and outside the image's edges) and the detector's CLAHE-equalised input,
on random pictures of many sizes (CLAHE pads sizes that are not a multiple of its tiles).
"""

from __future__ import annotations

import cv2
import numpy as np

from ferkit.game.settings import ServerSettings
from tests.game.server import running_server
from tests.game.test_browser import launch, playwright, pytestmark  # noqa: F401  (fixture; skip without Chromium)
from tests.game.test_browser_parity import RGB_OF_PNG

COMPARE_IN_PAGE = """async () => {
  const ops = await import("/static/imageops.mjs");
  const vision = await (await fetch("/api/vision")).json();
  await ops.loadKernels(vision.runtime.kernels);
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const both = (f) => {
    ops.useKernels(false);
    const js = f();
    if (!ops.useKernels(true)) throw new Error("kernels not loaded");
    return [js, f()];
  };
  const same = (a, b) => a.width === b.width && a.height === b.height && a.data.every((v, i) => v === b.data[i]);
  const counts = { crops: 0, cropsDiffering: 0, equalized: 0, equalizedDiffering: 0 };
  for (const [width, height] of [[320, 240], [333, 251], [64, 48], [17, 13], [640, 480]]) {
    const picture = ops.image(width, height, 3);
    // smooth regions and noise: CLAHE's tiles see both flat and busy histograms
    for (let i = 0; i < picture.data.length; i++) {
      picture.data[i] = (i % 7 < 3 ? (i >> 5) & 255 : 0) + Math.floor(random() * 80);
    }
    const [a, b] = both(() => ops.equalizedRgb(picture, 2.0, 8));
    counts.equalized++;
    counts.equalizedDiffering += !same(a, b);
    for (let t = 0; t < 300; t++) {
      const size = [24, 48, 12][t % 3];
      const w = size + 1 + Math.floor(random() * 2 * width), h = size + 1 + Math.floor(random() * 2 * height);
      const x0 = Math.floor(random() * (width + w)) - w, y0 = Math.floor(random() * (height + h)) - h;
      const [c, d] = both(() => ops.resizeAreaWindow(picture, x0, y0, w, h, size, size));
      counts.crops++;
      counts.cropsDiffering += !same(c, d);
    }
  }
  return counts;
}"""


def evaluate_in_page(playwright, tmp_path, script: str, arg=None):  # noqa: F811
    """`script` evaluated in the game's page, served by a real server, in headless Chromium."""
    settings = ServerSettings(leaderboard_path=tmp_path / "lb.sqlite3")
    with running_server(settings) as url:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.goto(url)
            return page.evaluate(script, arg)
        finally:
            browser.close()


def test_the_webassembly_kernels_give_the_javascripts_bytes(playwright, tmp_path):  # noqa: F811
    counts = evaluate_in_page(playwright, tmp_path, COMPARE_IN_PAGE)
    assert counts == {"crops": 1500, "cropsDiffering": 0, "equalized": 5, "equalizedDiffering": 0}


LAB_TO_RGB_IN_PAGE = """async () => {
  const ops = await import("/static/imageops.mjs");
  const vision = await (await fetch("/api/vision")).json();
  await ops.loadKernels(vision.runtime.kernels);
  const n = 1 << 24;  // every L, a, b
  const L = new Uint8Array(n), A = new Uint8Array(n), B = new Uint8Array(n);
  for (let i = 0; i < n; i++) { L[i] = i >> 16; A[i] = (i >> 8) & 255; B[i] = i & 255; }
  const digest = (rgb) => {
    let sum = 0, weighted = 0;
    for (let j = 0; j < rgb.data.length; j++) { sum += rgb.data[j]; weighted += rgb.data[j] * ((j % 65521) + 1); }
    return [sum, weighted];
  };
  ops.useKernels(false);
  const js = digest(ops.rgbFromLab(L, A, B, 4096, 4096));
  if (!ops.useKernels(true)) throw new Error("kernels not loaded");
  const kernels = digest(ops.rgbFromLab(L, A, B, 4096, 4096));
  // and back: every RGB colour (the same counting, read as R, G, B) to LAB
  const rgb = ops.image(4096, 4096, 3);
  for (let i = 0; i < n; i++) { rgb.data[3 * i] = L[i]; rgb.data[3 * i + 1] = A[i]; rgb.data[3 * i + 2] = B[i]; }
  const lab = ops.labFromRgb(rgb);
  const planes = ops.image(4096, 4096, 3);
  [lab.L, lab.A, lab.B].forEach((plane, k) => plane.forEach((v, i) => { planes.data[3 * i + k] = v; }));
  return { js, kernels, toLab: digest(planes) };
}"""


def test_lab_conversions_are_opencvs_on_every_colour(playwright, tmp_path):  # noqa: F811
    """The page's LAB→RGB (JavaScript and kernel) and RGB→LAB against cv2.cvtColor on all 2^24 values."""
    lab = np.arange(1 << 24, dtype=np.uint32)
    lab = np.stack([lab >> 16, (lab >> 8) & 255, lab & 255], -1).astype(np.uint8).reshape(4096, 4096, 3)
    weights = np.arange(lab.size) % 65521 + 1

    def digest(pixels: np.ndarray) -> list[int]:
        values = pixels.reshape(-1).astype(np.int64)
        return [int(values.sum()), int((values * weights).sum())]

    expected = digest(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))
    expected_lab = digest(cv2.cvtColor(lab, cv2.COLOR_RGB2LAB))  # the same bytes read as RGB
    got = evaluate_in_page(playwright, tmp_path, LAB_TO_RGB_IN_PAGE)
    assert got == {"js": expected, "kernels": expected, "toLab": expected_lab}


EQUALIZE_IN_PAGE = (
    "async ([png, clip, tiles]) => {"
    + RGB_OF_PNG
    + """
  const ops = await import("/static/imageops.mjs");
  const vision = await (await fetch("/api/vision")).json();
  await ops.loadKernels(vision.runtime.kernels);
  return Array.from(ops.equalizedRgb(await rgbOfPng(png), clip, tiles).data);
}"""
)


def test_the_detectors_input_is_the_servers_to_the_byte(playwright, tmp_path):  # noqa: F811
    """CLAHE on LAB lightness in the page == MtcnnFaceDetector._equalized_rgb, on the README photo."""
    import base64
    from pathlib import Path

    from ferkit.vision.mtcnn import MtcnnFaceDetector

    photo = cv2.imread(str(Path(__file__).resolve().parents[2] / "docs" / "predict-astronaut.jpg"))
    photo = cv2.resize(photo, (320, 240), interpolation=cv2.INTER_AREA)
    png = base64.b64encode(cv2.imencode(".png", photo)[1].tobytes()).decode()
    detector = MtcnnFaceDetector()
    expected = detector._equalized_rgb(photo)
    args = [png, detector.clahe_clip_limit, detector.clahe_tiles]
    got = np.array(evaluate_in_page(playwright, tmp_path, EQUALIZE_IN_PAGE, args), np.uint8).reshape(expected.shape)
    assert int((got != expected).sum()) == 0


LEVELLED_CROPS_IN_PAGE = """async ([width, height, pixels, boxes, faceSize, framing]) => {
  const faces = await import("/static/faces.mjs");
  const ops = await import("/static/imageops.mjs");
  const gray = ops.image(width, height, 1, Uint8Array.from(pixels));
  return boxes.map((box) => Array.from(faces.cropFace(gray, box, framing, faceSize, true).data));
}"""


def test_levelled_crops_in_the_page_are_the_servers_bytes(playwright, tmp_path):  # noqa: F811
    """crop_face(level_eyes=True) and the page's cropFace(..., levelEyes): the same 48×48 faces, byte for byte,
    for faces turned up to ±25°, of many sizes, inside and across the picture's edges (and one left as is)."""
    from ferkit.face_size import FACE_SIZE
    from ferkit.vision.crop import crop_face
    from ferkit.vision.detect import FaceBox

    rng = np.random.default_rng(5)
    width, height = 333, 251
    gray = cv2.GaussianBlur(rng.integers(0, 256, (height, width), dtype=np.uint8), (0, 0), 2)
    gray = np.clip(gray.astype(int) + rng.integers(-20, 20, gray.shape), 0, 255).astype(np.uint8)
    boxes, expected = [], []
    for k in range(60):
        side = int(rng.integers(20, 200))
        x, y = int(rng.integers(-side // 2, width - side // 2)), int(rng.integers(-side // 2, height - side // 2))
        angle = 0.5 if k == 0 else float(rng.uniform(-25, 25))  # the first is under 1°: not turned
        eye = side * 0.3
        cx, cy = x + side / 2, y + side * 0.4
        dx, dy = eye * np.cos(np.radians(angle)), eye * np.sin(np.radians(angle))
        marks = ((cx - dx, cy - dy), (cx + dx, cy + dy), (cx, cy), (cx - dx, cy + eye), (cx + dx, cy + eye))
        box = FaceBox(x, y, side, side + int(rng.integers(-5, 6)), 0.99, tuple((float(a), float(b)) for a, b in marks))
        boxes.append({"x": box.x, "y": box.y, "w": box.w, "h": box.h, "landmarks": [list(m) for m in box.landmarks]})
        expected.append(crop_face(gray, box, 0.96, level_eyes=True).reshape(-1).tolist())
    arg = [width, height, gray.reshape(-1).tolist(), boxes, FACE_SIZE, 0.96]
    got = evaluate_in_page(playwright, tmp_path, LEVELLED_CROPS_IN_PAGE, arg)
    differing = [k for k, (a, b) in enumerate(zip(got, expected)) if a != b]
    assert len(got) == len(expected) and not differing
