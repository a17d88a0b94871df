"""Claims from pages that run the model themselves: honest ones accepted, forged ones refused, the server's
score stored either way, and malformed ones answered with a reason. Real Recognizer, real photo."""

from __future__ import annotations

import base64
import math
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from ferkit.game.app import create_app
from ferkit.game.claims import ClaimFrame, rescore
from ferkit.game.on_device import CAPTURE_WIDTH, VERIFY_MARGIN
from ferkit.game.rules import HOLD_FRAMES
from ferkit.game.settings import ServerSettings
from ferkit.infer import Recognizer

PHOTO = Path(__file__).resolve().parents[2] / "docs" / "predict-astronaut.jpg"  # NASA, public domain


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


@pytest.fixture(scope="module")
def frame_and_box(recognizer):
    """A capture-width frame of a real smiling face, and the face's box as the page's detector finds it."""
    image = cv2.imread(str(PHOTO))
    height = round(image.shape[0] * CAPTURE_WIDTH / image.shape[1])
    frame = cv2.resize(image, (CAPTURE_WIDTH, height), interpolation=cv2.INTER_AREA)
    (face,) = recognizer.predict(frame)
    assert face.label == "happy"
    return frame, face.box


def picture(frame: np.ndarray, box, quality: int = 92) -> dict:
    """What the page sends per frame (local_play.mjs verificationPicture + claimFrame)."""
    pad = math.ceil(max(box.w, box.h) * VERIFY_MARGIN)
    x0, y0 = max(0, box.x - pad), max(0, box.y - pad)
    x1, y1 = min(frame.shape[1], box.x + box.w + pad), min(frame.shape[0], box.y + box.h + pad)
    ok, jpeg = cv2.imencode(".jpg", frame[y0:y1, x0:x1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    box_in_picture = {"x": box.x - x0, "y": box.y - y0, "w": box.w, "h": box.h}
    return {"jpeg": base64.b64encode(jpeg.tobytes()).decode(), "box": box_in_picture}


@pytest.fixture
def client(tmp_path, recognizer):
    settings = ServerSettings(
        leaderboard_path=tmp_path / "lb.sqlite3", targets=("happy", "sad"), capture_seconds=0.3, fps=10
    )
    with TestClient(create_app(settings, recognizer=recognizer)) as client:
        yield client


def start(ws, rounds: int = 2, inference: str = "browser") -> dict:
    ws.send_json({"type": "start", "name": "Ada", "rounds": rounds, "inference": inference})
    return ws.receive_json()


def capture(ws, index: int) -> None:
    ws.send_json({"type": "capture", "round": index})
    assert ws.receive_json()["type"] == "capturing"
    time.sleep(0.2)  # a claim may not come before the round's frames could have been captured


def server_score(recognizer, frame, box, target: str) -> int:
    frames = []
    for _ in range(HOLD_FRAMES):
        p = picture(frame, box)
        image = cv2.imdecode(np.frombuffer(base64.b64decode(p["jpeg"]), np.uint8), cv2.IMREAD_COLOR)
        b = p["box"]
        frames.append(ClaimFrame(image, type(box)(b["x"], b["y"], b["w"], b["h"], 1.0)))
    return rescore(recognizer, target, frames).score


def test_an_honest_claim_is_accepted_and_the_servers_score_stored(client, recognizer, frame_and_box):
    frame, box = frame_and_box
    happy = server_score(recognizer, frame, box, "happy")
    sad = server_score(recognizer, frame, box, "sad")
    with client.websocket_connect("/ws/play") as ws:
        assert start(ws)["inference"] == "browser"
        for index, score in enumerate((happy, sad)):
            capture(ws, index)
            claimed = min(100, score + 3)  # the page's own score differs a little (JPEG on the way)
            ws.send_json({"type": "claim", "round": index, "score": claimed, "frames": [picture(frame, box)] * 3})
            reply = ws.receive_json()
            assert reply["type"] == "round", reply
            assert reply["accepted"] and reply["claimed"] == claimed and reply["score"] == score
            assert reply["thumbnail"].startswith("data:image/jpeg;base64,")
        over = ws.receive_json()
    assert over["type"] == "over" and [r["score"] for r in over["rounds"]] == [happy, sad]
    assert happy >= 60 and sad <= 20


def test_a_forged_client_claiming_100_every_round_gets_the_servers_scores(client, recognizer, frame_and_box):
    frame, box = frame_and_box
    noise = np.random.default_rng(0).integers(0, 256, frame.shape, np.uint8)
    sad = server_score(recognizer, frame, box, "sad")
    with client.websocket_connect("/ws/play") as ws:
        start(ws)
        # round 1 (happy): pictures of noise with a made-up box; round 2 (sad): a smiling face
        for index, pictures in enumerate(([picture(noise, box)] * 3, [picture(frame, box)] * 3)):
            capture(ws, index)
            ws.send_json({"type": "claim", "round": index, "score": 100, "frames": pictures})
            refusal = ws.receive_json()
            assert refusal["type"] == "error" and refusal["code"] == "claim_refused"
            assert "claimed 100" in refusal["message"] and "server's score counts" in refusal["message"]
            reply = ws.receive_json()
            assert reply["type"] == "round" and not reply["accepted"] and reply["score"] < 30
        assert "show no face" in refusal["message"] or index == 1
        over = ws.receive_json()
    assert [r["score"] for r in over["rounds"]] == [0, sad]
    print("forged client: the server stored", [r["score"] for r in over["rounds"]])
    board = client.get("/api/leaderboard").json()
    assert board["games"][0]["total"] == over["total"] == sad


@pytest.mark.parametrize(
    ("claim", "text"),
    [
        ({"score": 101}, "between 0 and 100"),
        ({"score": True}, "whole number"),
        ({"frames": []}, "3 frames"),
        ({"frames": [{"jpeg": "!!", "box": {"x": 1, "y": 1, "w": 50, "h": 50}}] * 3}, "not base64"),
        ({"frames": [{"jpeg": base64.b64encode(b"not a jpeg").decode(), "box": {}}] * 3}, "frame 0: not a readable"),
        ({"frames": [{"jpeg": "QUJD", "box": {"x": 0, "y": 0, "w": 50, "h": 50}}] * 3}, "not a readable image"),
        ({"frames": [{"jpeg": "A" * 2_000_000, "box": {}}] * 3}, "frame limit"),
        ({"frames": "box"}, "box y must be a whole number"),
    ],
)
def test_malformed_claims_are_answered_with_the_reason(client, recognizer, frame_and_box, claim, text):
    if claim.get("frames") == "box":
        claim = {"frames": [picture(*frame_and_box) | {"box": {"x": 1}}] * 3}
    with client.websocket_connect("/ws/play") as ws:
        start(ws)
        capture(ws, 0)
        ws.send_json({"type": "claim", "round": 0, "score": 50, "frames": [{}] * 3} | claim)
        reply = ws.receive_json()
        assert reply["type"] == "error" and reply["code"] == "bad_claim" and text in reply["message"], reply
        # the round is still open: an honest claim goes through
        frame, box = frame_and_box
        honest = server_score(recognizer, frame, box, "happy")
        ws.send_json({"type": "claim", "round": 0, "score": honest, "frames": [picture(frame, box)] * 3})
        assert ws.receive_json()["type"] == "round"


def test_claims_only_in_browser_games_and_never_early(client, frame_and_box):
    frame, box = frame_and_box
    claim = {"type": "claim", "round": 0, "score": 80, "frames": [picture(frame, box)] * 3}
    with client.websocket_connect("/ws/play") as ws:
        assert start(ws, inference="server")["inference"] == "server"
        ws.send_json({"type": "capture", "round": 0})
        ws.receive_json()
        ws.send_json(claim)
        assert ws.receive_json()["code"] == "bad_message"
    with client.websocket_connect("/ws/play") as ws:
        start(ws)
        ws.send_json(claim)
        assert ws.receive_json()["code"] == "bad_round"  # not capturing yet
        ws.send_json({"type": "capture", "round": 0})
        ws.receive_json()
        ws.send_json(claim)
        assert ws.receive_json()["code"] == "bad_claim"  # faster than the frames could have come


def test_a_server_with_the_fast_mtcnn_offers_browser_games_the_page_follows(tmp_path):
    settings = ServerSettings(leaderboard_path=tmp_path / "lb.sqlite3", detector="mtcnn-fast")
    with TestClient(create_app(settings)) as client:
        vision = client.get("/api/vision").json()
        assert vision["inference"] == "browser" and vision["detector"]["shrunk_crops"] is True


def test_a_server_with_another_detector_refuses_browser_games(tmp_path, recognizer):
    settings = ServerSettings(leaderboard_path=tmp_path / "lb.sqlite3", detector="haar")
    app = create_app(settings, recognizer=Recognizer(detector="haar"))
    with TestClient(app) as client:
        vision = client.get("/api/vision").json()
        assert vision["inference"] == "server" and "detector" not in vision
        with client.websocket_connect("/ws/play") as ws:
            assert start(ws)["code"] == "bad_message"
