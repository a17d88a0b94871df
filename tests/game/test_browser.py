"""Best Actor in a real browser: Playwright drives Debian's Chromium with a y4m file as its webcam.

Needs /usr/bin/chromium (`.ci/run` installs it) and FER2013 for the faces; skips with the reason otherwise.
Screenshots of every screen go to test-artifacts/ (or $FERKIT_TEST_ARTIFACTS).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from ferkit.game.rules import draw_targets
from ferkit.game.settings import ServerSettings
from tests.conftest import FER2013_TARBALL, FERPLUS_CSV
from tests.game.server import running_ferkit_play, running_server
from tests.game.webcam import confident_faces, face_frame, two_faces_frame, write_y4m

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])"
)
CHROMIUM = os.environ.get("FERKIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)
needs_fer = pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
BASE_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
FAKE_CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture(scope="module")
def artifacts() -> Path:
    path = Path(os.environ.get("FERKIT_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def webcams(tmp_path_factory) -> dict[str, Path]:
    if not FER2013_TARBALL.exists():
        pytest.skip(f"FER2013 not found at {FER2013_TARBALL}")
    from ferkit.data import load_faces

    test = load_faces(FER2013_TARBALL).split("PrivateTest")
    happy = confident_faces(np.asarray(test.faces), test.labels, "happy", 2)
    folder = tmp_path_factory.mktemp("webcams")
    empty = np.full((480, 640), 110, np.uint8)
    return {
        "happy": write_y4m(folder / "happy.y4m", [face_frame(happy[0])] * 5),
        "two": write_y4m(folder / "two.y4m", [two_faces_frame(happy[0], happy[1])] * 5),
        "empty": write_y4m(folder / "empty.y4m", [empty] * 5),
    }


@pytest.fixture(scope="module")
def playwright():
    with playwright_api.sync_playwright() as p:
        yield p


def launch(playwright, *flags: str):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*BASE_FLAGS, *flags])


def settings(tmp_path: Path, **overrides) -> ServerSettings:
    base = {
        "leaderboard_path": tmp_path / "lb.sqlite3",
        "countdown_seconds": 0.6,
        "capture_seconds": 1.0,
    }
    return ServerSettings(**(base | overrides))


def new_page(browser, **context):
    page = browser.new_context(**context).new_page()
    page.dialogs = []  # an alert() would mean a player's name ran as code
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    return page


def seed_with_happy(rounds: int) -> tuple[int, list[str]]:
    """A `--seed` whose game includes the happy round (and others), and that game's targets."""
    for seed in range(100):
        targets = draw_targets(rounds, random.Random(seed))
        if "happy" in targets[1:]:
            return seed, targets
    raise AssertionError("no seed draws happy")


def round_replies(page) -> list[dict]:
    """The game socket's round replies, collected as they arrive (claimed vs the server's score)."""
    replies: list[dict] = []

    def on_socket(ws) -> None:
        def on_frame(payload) -> None:
            message = json.loads(payload) if isinstance(payload, str) else {}
            if message.get("type") == "round":
                replies.append(message)

        ws.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    return replies


@needs_fer
@pytest.mark.parametrize("inference", ["browser", "server"])
def test_a_whole_game_scores_the_acted_face_and_keeps_the_name_as_text(
    playwright, webcams, artifacts, tmp_path, inference
):
    browser = launch(playwright, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={webcams['happy']}")
    seed, targets = seed_with_happy(3)
    timing = ["--countdown-seconds", "0.6", "--capture-seconds", "1"]
    board = ["--leaderboard", str(tmp_path / "lb.sqlite3")]
    # `ferkit play` judges with ferplus by default; this game's seeded targets are the FER2013 model's names
    model = ["--model", "default"]
    with running_ferkit_play("--seed", str(seed), "--inference", inference, *timing, *board, *model) as url:
        page = new_page(browser, viewport={"width": 900, "height": 1000})
        rounds = round_replies(page)
        page.goto(url)
        page.wait_for_selector("body[data-leaderboard=loaded]")
        page.wait_for_selector(f"body[data-inference={inference}]", timeout=30_000)
        privacy = page.inner_text("#privacy")
        assert ("stay on your device" in privacy) == (inference == "browser"), privacy
        page.fill("#name", HOSTILE_NAME)
        page.select_option("#rounds", "3")
        page.screenshot(path=artifacts / f"game-start-{inference}.png")
        page.click("#play")
        page.wait_for_selector("#countdown:not([hidden])")
        page.screenshot(path=artifacts / f"game-countdown-{inference}.png")
        page.wait_for_function("parseFloat(document.getElementById('progress-bar').style.width) > 0")
        page.screenshot(path=artifacts / f"game-capture-{inference}.png")
        page.wait_for_selector("#results:not([hidden])", timeout=60_000)
        page.screenshot(path=artifacts / f"game-results-{inference}.png")
        if inference == "browser":  # every claim was the page's honest score: all accepted
            assert [r["accepted"] for r in rounds] == [True] * 3, rounds
            print("claimed vs server:", [(r["claimed"], r["score"]) for r in rounds])
            assert not page.is_visible("#result-message")
        scores = {
            li.get_attribute("data-target"): int(li.get_attribute("data-score"))
            for li in page.query_selector_all("#result-rounds li")
        }
        assert list(scores) == targets
        assert scores["happy"] >= 60, scores  # the face on camera matches the target
        assert all(score <= 20 for target, score in scores.items() if target != "happy"), scores
        assert page.inner_text("#result-player") == HOSTILE_NAME
        assert page.query_selector_all("#result-rounds img[src^='data:image/jpeg;base64,']").__len__() == 3

        page.reload()
        page.wait_for_selector("body[data-leaderboard=loaded]")
        first_row = page.query_selector("#board-games tbody tr")
        assert first_row.inner_text().split("\t")[1] == HOSTILE_NAME
        assert page.query_selector_all("#board-games img") == []
        page.select_option("#board-expression", "happy")
        assert HOSTILE_NAME in page.inner_text("#board-expression-table")
        assert page.inner_text("#board-judge").startswith("Games judged by default.onnx sha256:")
        page.screenshot(path=artifacts / "game-leaderboard.png")
        assert page.dialogs == []
    browser.close()


@needs_fer
def test_without_webassembly_the_page_falls_back_to_server_inference(playwright, webcams, tmp_path):
    # a browser (or a policy) without WebAssembly. Chromium 150 ignores V8's --noexpose_wasm, so the object
    # is removed before any of the page's scripts run
    browser = launch(playwright, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={webcams['happy']}")
    with running_server(settings(tmp_path, targets=("happy",))) as url:
        page = new_page(browser)
        page.add_init_script("delete globalThis.WebAssembly")
        page.goto(url)
        assert page.evaluate("typeof WebAssembly") == "undefined"
        page.wait_for_selector("body[data-inference=server]", timeout=30_000)
        assert "sent to this game server" in page.inner_text("#privacy")
        page.click("#play")
        page.wait_for_selector("#results:not([hidden])", timeout=60_000)
        assert int(page.get_attribute("#result-rounds li", "data-score")) >= 60
    browser.close()


@needs_fer
@pytest.mark.parametrize(
    ("camera", "reason", "text"), [("two", "many_faces", "one actor"), ("empty", "no_face", "No face")]
)
def test_the_round_waits_while_not_exactly_one_face_is_in_view(
    playwright, webcams, artifacts, tmp_path, camera, reason, text
):
    browser = launch(playwright, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={webcams[camera]}")
    with running_server(settings(tmp_path, targets=("happy",))) as url:
        page = new_page(browser)
        page.goto(url)
        page.click("#play")
        page.wait_for_selector(f"#frame-message[data-reason={reason}]", timeout=20_000)
        assert text in page.inner_text("#frame-message")
        time.sleep(2.5)  # longer than the countdown and the whole capture window
        assert page.is_visible("#stage") and not page.is_visible("#results")
        assert page.evaluate("document.getElementById('progress-bar').style.width") in ("0", "0px", "0%")
        page.screenshot(path=artifacts / f"game-{reason}.png")
    browser.close()


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        ([], "no_camera"),  # headless Chromium with no fake device has no camera at all
        (["--use-fake-device-for-media-stream", "--deny-permission-prompts"], "denied"),
    ],
)
def test_no_camera_or_denied_permission_is_said_and_the_page_waits(playwright, artifacts, tmp_path, flags, reason):
    from tests.game.fakes import ScriptedRecognizer

    browser = launch(playwright, *flags)
    with running_server(settings(tmp_path), recognizer=ScriptedRecognizer()) as url:
        page = new_page(browser)
        page.goto(url)
        page.click("#play")
        message = page.wait_for_selector(f"#camera-message[data-reason={reason}]", timeout=15_000)
        assert "Play again" in message.inner_text()
        assert page.is_visible("#start") and page.is_enabled("#play")
        page.screenshot(path=artifacts / f"game-{reason}.png")
    browser.close()


@needs_fer
def test_phone_sized_viewport_has_no_sideways_scroll(playwright, webcams, artifacts, tmp_path):
    browser = launch(playwright, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={webcams['happy']}")
    with running_server(settings(tmp_path, targets=("happy",))) as url:
        page = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        page.goto(url)
        page.wait_for_selector("body[data-leaderboard=loaded]")
        overflow = "document.scrollingElement.scrollWidth <= window.innerWidth"
        assert page.evaluate(overflow)
        page.wait_for_selector("body[data-inference=browser]", timeout=30_000)
        assert "camera frames stay on your device" in page.inner_text("#privacy")
        page.select_option("#rounds", "3")
        page.tap("#play")
        page.wait_for_function("parseFloat(document.getElementById('progress-bar').style.width) > 0")
        assert page.evaluate(overflow)
        page.screenshot(path=artifacts / "game-phone.png")
    browser.close()


@pytest.fixture(scope="module")
def acted_faces(tmp_path_factory) -> dict[str, Path]:
    """A webcam per expression: a PrivateTest face the shipped model, after detection, calls that expression."""
    if not FER2013_TARBALL.exists():
        pytest.skip(f"FER2013 not found at {FER2013_TARBALL}")
    from ferkit.data import load_faces
    from ferkit.labels import EMOTIONS

    test = load_faces(FER2013_TARBALL).split("PrivateTest")
    folder = tmp_path_factory.mktemp("acted")
    cameras = {}
    for name in EMOTIONS:
        (face,) = confident_faces(np.asarray(test.faces), test.labels, name, 1, minimum=0.8)
        cameras[name] = write_y4m(folder / f"{name}.y4m", [face_frame(face)] * 5)
    return cameras


def play_rounds(
    playwright, camera: Path, targets: tuple[str, ...], tmp_path: Path, *, inference: str | None = None, **overrides
) -> dict[str, int]:
    """One game in Chromium with `camera` as the webcam and fixed targets; the results screen's scores.

    `inference`: where the page must end up running the model ("browser": its onnxruntime-web loaded it)."""
    browser = launch(playwright, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={camera}")
    with running_server(settings(tmp_path, targets=targets, **overrides)) as url:
        page = new_page(browser)
        page.goto(url)
        page.wait_for_selector("body[data-leaderboard=loaded]")
        if inference:
            page.wait_for_selector(f"body[data-inference={inference}]", timeout=30_000)
        page.select_option("#rounds", "10")  # the server caps the game at its fixed targets' count
        page.click("#play")
        page.wait_for_selector("#results:not([hidden])", timeout=90_000)
        scores = {
            li.get_attribute("data-target"): int(li.get_attribute("data-score"))
            for li in page.query_selector_all("#result-rounds li")
        }
    browser.close()
    return scores


@needs_fer
@pytest.mark.parametrize("expression", ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"])
def test_every_expression_acted_well_wins_its_round(playwright, acted_faces, tmp_path, expression):
    scores = play_rounds(playwright, acted_faces[expression], (expression,), tmp_path)
    assert scores[expression] >= 60, scores


@needs_fer
def test_a_neutral_face_wins_no_other_round(playwright, acted_faces, tmp_path):
    targets = ("angry", "disgust", "fear", "happy", "sad", "surprise")
    scores = play_rounds(playwright, acted_faces["neutral"], targets, tmp_path)  # one game of six rounds
    assert set(scores) == set(targets) and all(score < 60 for score in scores.values()), scores


@pytest.fixture(scope="module")
def ferplus_acted_faces(tmp_path_factory) -> dict[str, Path]:
    """A webcam per played FER+ expression: a PrivateTest face whose annotators' majority is that expression and
    which the shipped `ferplus` model (the game's judge), after detection, calls it (≥ 0.7: FER+ PrivateTest has
    18 disgust faces, few of them that sure)."""
    if not (FER2013_TARBALL.exists() and FERPLUS_CSV.exists()):
        pytest.skip(f"FER2013 or the FER+ votes not found at {FER2013_TARBALL.parent}")
    from ferkit.data import load_faces, split_with_labels
    from ferkit.labels import FERPLUS_EMOTIONS

    faces, labels = split_with_labels(load_faces(FER2013_TARBALL, ferplus=FERPLUS_CSV), "PrivateTest", FERPLUS_EMOTIONS)
    folder = tmp_path_factory.mktemp("acted-ferplus")
    cameras = {}
    for name in FERPLUS_PLAYED:
        (face,) = confident_faces(np.asarray(faces), labels, name, 1, 0.7, "ferplus", FERPLUS_EMOTIONS)
        cameras[name] = write_y4m(folder / f"{name}.y4m", [face_frame(face)] * 5)
    return cameras


# the game's own judge (`ferkit play` plays with `ferplus`): its seven played expressions (contempt is off)
FERPLUS_PLAYED = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")


@needs_fer
@pytest.mark.parametrize("expression", FERPLUS_PLAYED)
def test_every_expression_acted_well_wins_its_round_with_the_games_ferplus_judge(
    playwright, ferplus_acted_faces, tmp_path, expression
):
    scores = play_rounds(playwright, ferplus_acted_faces[expression], (expression,), tmp_path, model="ferplus")
    assert scores[expression] >= 60, scores


@needs_fer
def test_a_neutral_face_wins_no_other_round_with_the_games_ferplus_judge(playwright, ferplus_acted_faces, tmp_path):
    targets = tuple(name for name in FERPLUS_PLAYED if name != "neutral")
    scores = play_rounds(playwright, ferplus_acted_faces["neutral"], targets, tmp_path, model="ferplus")
    assert set(scores) == set(targets) and all(score < 60 for score in scores.values()), scores


@needs_fer
def test_an_int8_export_plays_in_the_page_with_its_rule_and_judge(playwright, acted_faces, tmp_path):
    # the path to a wider shipped net under the 1.2 ms budget is its int8 export: onnxruntime-web must run
    # the QDQ graph, and the model's own metadata (names, rule, judge curves) must survive quantisation
    from ferkit.data import load_faces
    from ferkit.export.int8 import calibration_faces, quantize_onnx
    from ferkit.weights import default_model_path

    int8 = quantize_onnx(
        default_model_path(), tmp_path / "default.int8.onnx", calibration_faces(load_faces(FER2013_TARBALL), count=128)
    )
    scores = play_rounds(
        playwright, acted_faces["happy"], ("happy", "angry"), tmp_path, model=str(int8), inference="browser"
    )
    assert set(scores) == {"happy", "angry"}
    assert scores["happy"] >= 60 > scores["angry"], scores


@needs_fer
def test_the_shipped_ferplus_model_plays_in_the_page_with_its_own_names(playwright, acted_faces, tmp_path):
    scores = play_rounds(playwright, acted_faces["happy"], ("happiness", "anger"), tmp_path, model="ferplus")
    assert set(scores) == {"happiness", "anger"}  # the model's own class names, from the server
    assert scores["happiness"] >= 60 > scores["anger"], scores
