"""The page's Recognizer (onnxruntime-web in Chromium) against the Python one, on the same pixels.

Boxes within 2 px, probabilities within 1e-3, on pictures with one, two and no faces. No FER2013 needed:
the faces are the README's real photo (NASA, public domain), whole, shrunk, and side by side.
"""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np
import pytest

from ferkit.game.settings import ServerSettings
from ferkit.infer import Recognizer
from tests.game.server import running_server
from tests.game.test_browser import launch, playwright, pytestmark  # noqa: F401  (fixture; skip without Chromium)

PHOTO = Path(__file__).resolve().parents[2] / "docs" / "predict-astronaut.jpg"
# A page-side helper: a base64 PNG's pixels as the page reads a canvas (no colour management).
RGB_OF_PNG = """
  const rgbOfPng = async (png) => {
    const { rgbOfCanvas } = await import("/static/local_play.mjs");
    const blob = await (await fetch("data:image/png;base64," + png)).blob();
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext("2d", { willReadFrequently: true }).drawImage(bitmap, 0, 0);
    return rgbOfCanvas(canvas);
  };
"""
ANALYSE_IN_PAGE = (
    "async ([png, minSize]) => {"
    + RGB_OF_PNG
    + """
  const { loadLocalRecognizer } = await import("/static/local_play.mjs");
  if (!window.parityRecognizer) {
    const vision = await (await fetch("/api/vision")).json();
    window.parityRecognizer = await loadLocalRecognizer(vision);
  }
  const analysis = await window.parityRecognizer.analyse(await rgbOfPng(png), 32, minSize);
  return { faces: analysis.faces, threads: window.parityRecognizer.threads };
}"""
)


def pictures() -> dict[str, np.ndarray]:
    photo = cv2.imread(str(PHOTO))
    small = cv2.resize(photo, (320, 320), interpolation=cv2.INTER_AREA)
    pair = np.concatenate([small, cv2.flip(small, 1)], axis=1)
    gradient = np.tile(np.linspace(40, 220, 320, dtype=np.uint8)[None, :, None], (240, 1, 3))
    noise = np.random.default_rng(1).integers(0, 256, (240, 320, 3), np.uint8)
    odd = cv2.resize(photo, (461, 437), interpolation=cv2.INTER_AREA)  # odd sides: the shrunk copies drop an edge
    return {
        "photo": photo,
        "photo-320": small,
        "two-faces": pair,
        "photo-odd": odd,
        "gradient": gradient,
        "noise": noise,
    }


# a game stream's followed frames look only for faces at least this big (ferkit.vision.following)
FOLLOWING = {"photo": 60, "photo-320": 60, "two-faces": 50}


# mtcnn-fast: large boxes' crops and the pyramid from shrunk copies, which the page makes the same way; an int8
# model: onnxruntime-web's integer kernels in the page against onnxruntime's on the server; the --fast settings with
# a server min_face (which the page takes from /api/vision) large enough to leave the 52-px faces unfound
SERVERS = [("mtcnn", "default", None), ("mtcnn-fast", "default", None), ("mtcnn", "ferplus-int8", None),
           ("mtcnn-fast", "default-int8", 130.0)]  # fmt: skip


@pytest.fixture(scope="module", params=SERVERS)
def detector_and_url(request, tmp_path_factory):
    detector, model, min_face = request.param
    lb = tmp_path_factory.mktemp("parity") / "lb.sqlite3"
    with running_server(ServerSettings(leaderboard_path=lb, detector=detector, model=model, min_face=min_face)) as url:
        yield detector, model, min_face, url


def test_the_page_finds_and_scores_faces_as_python_does(playwright, detector_and_url):  # noqa: F811
    detector, model, min_face, page_url = detector_and_url
    browser = launch(playwright)
    page = browser.new_page()
    page.goto(page_url)
    recognizer = Recognizer(model, detector=detector, min_face=min_face)
    counts = {}
    worst_box, worst_p = 0, 0.0
    cases = [(name, bgr, None) for name, bgr in pictures().items()]
    cases += [(f"{name}, faces ≥ {size} px", pictures()[name], size) for name, size in FOLLOWING.items()]
    for name, bgr, min_size in cases:
        ok, png = cv2.imencode(".png", bgr)
        assert ok
        # the same pixels on both sides: Python reads the PNG back, the page decodes it without colour management
        pixels = cv2.imdecode(png, cv2.IMREAD_COLOR)
        expected = recognizer.predict(pixels, min_size=min_size)
        got = page.evaluate(ANALYSE_IN_PAGE, [base64.b64encode(png.tobytes()).decode(), min_size])["faces"]
        counts[name] = len(got)
        assert len(got) == len(expected), f"{name}: page {len(got)} faces, Python {len(expected)}"
        for face in expected:
            box = face.box
            match = min(got, key=lambda g: abs(g["box"]["x"] - box.x) + abs(g["box"]["y"] - box.y))
            worst_box = max(worst_box, *(abs(match["box"][k] - getattr(box, k)) for k in ("x", "y", "w", "h")))
            worst_p = max(worst_p, *(abs(match["probabilities"][n] - p) for n, p in face.probabilities.items()))
            for key in ("x", "y", "w", "h"):
                assert abs(match["box"][key] - getattr(box, key)) <= 2, f"{name}: {match['box']} vs {box}"
            for label, p in face.probabilities.items():
                assert match["probabilities"][label] == pytest.approx(p, abs=1e-3), f"{name}: {label}"
    # the full-size photo also has a small second face-like patch (a badge, 0.73 against O-Net's 0.7): both sides
    # find it with the full image's crops, which is the point; the shrunk crops leave it just under the bar
    if min_face is not None:  # the page looked for no face under min_face, as Python did: the 320-px ones are gone
        assert counts == {
            **{"photo": 1, "photo-320": 0, "two-faces": 0, "photo-odd": 1, "gradient": 0, "noise": 0},
            **{"photo, faces ≥ 60 px": 1, "photo-320, faces ≥ 60 px": 0, "two-faces, faces ≥ 50 px": 0},
        }
    else:
        assert counts == {
            **{"photo": 2 if detector == "mtcnn" else 1, "photo-320": 1, "two-faces": 2, "photo-odd": 1},
            **{"gradient": 0, "noise": 0},
            **{"photo, faces ≥ 60 px": 1, "photo-320, faces ≥ 60 px": 1, "two-faces, faces ≥ 50 px": 2},
        }
    print(
        f"parity ({detector}, {model}, {min_face}): largest box difference {worst_box} px, p difference {worst_p:.1e}"
    )
    browser.close()
