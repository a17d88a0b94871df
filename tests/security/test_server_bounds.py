"""No image exhausts the server: bounded detection, a pixel budget, bounded concurrency, stopped work.

The full-size attack images (thousands of faces, 7000² JPEGs) are in benchmarks/hostile_images.py,
which prints peak RSS and answer times; these tests send small versions and check the bounds by count.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import websockets
from fastapi.testclient import TestClient
from PIL import Image

from ferkit.game.analysis import Analyser, Busy
from ferkit.game.app import create_app
from ferkit.game.settings import ServerSettings
from ferkit.imagefile import decode_image_within
from ferkit.vision import MtcnnFaceDetector
from ferkit.vision.stop import AnalysisStopped, StopSignal
from tests.game.fakes import StallingRecognizer, scripted_frame
from tests.game.server import running_server

ASTRONAUT = Path(__file__).resolve().parents[2] / "docs" / "predict-astronaut.jpg"


def astronaut_face(side: int) -> np.ndarray:
    photo = cv2.imread(str(ASTRONAUT))
    return cv2.resize(photo[40:190, 145:295], (side, side), interpolation=cv2.INTER_AREA)


def face_grid(per_row: int, tile: int) -> np.ndarray:
    """A photo tiled with per_row² copies of one face: what an attacker uploads to make MTCNN work hard."""
    face = astronaut_face(tile)
    return np.vstack([np.hstack([face] * per_row)] * per_row)


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


class CountingNet:
    """Wraps an onnxruntime session and records the batch size of every call."""

    def __init__(self, session) -> None:
        self.session, self.batches = session, []

    def get_inputs(self):
        return self.session.get_inputs()

    def run(self, outputs, feeds):
        self.batches.append(len(next(iter(feeds.values()))))
        return self.session.run(outputs, feeds)


def test_mtcnn_work_is_bounded_whatever_the_image():
    detector = MtcnnFaceDetector(rnet_candidates=300, onet_candidates=100, batch_size=64)
    detector.rnet, detector.onet = CountingNet(detector.rnet), CountingNet(detector.onet)
    faces = detector.detect(face_grid(12, 64), max_faces=5)  # 144 faces
    assert 1 <= len(faces) <= 64  # O-Net saw at most 8 × max_faces (at least 64) candidates
    assert sum(detector.rnet.batches) <= 300 and max(detector.rnet.batches) <= 64
    assert sum(detector.onet.batches) <= 64 and max(detector.onet.batches) <= 64


def test_a_stop_signal_ends_detection():
    detector = MtcnnFaceDetector()
    cancelled = StopSignal()
    cancelled.cancel("the client left")
    with pytest.raises(AnalysisStopped) as stopped:
        detector.detect(face_grid(4, 64), stop=cancelled)
    assert stopped.value.reason == "the client left" and not stopped.value.timed_out
    with pytest.raises(AnalysisStopped) as late:
        detector.detect(face_grid(4, 64), stop=StopSignal(0.0))
    assert late.value.timed_out and "took over 0 s" in late.value.reason


def test_a_large_photo_is_shrunk_to_the_pixel_budget_and_keeps_its_size():
    big = np.zeros((2000, 3000, 3), np.uint8)
    image, full = decode_image_within(jpeg(big), 1_000_000)
    assert full == (3000, 2000) and image.shape[0] * image.shape[1] <= 1_000_000
    assert image.shape[1] / image.shape[0] == pytest.approx(1.5, abs=0.01)
    small, full_small = decode_image_within(jpeg(big[:100, :200]), 1_000_000)
    assert small.shape == (100, 200, 3) and full_small == (200, 100)


def test_the_pixel_budget_honours_exif_orientation():
    buffer = io.BytesIO()
    picture = Image.new("RGB", (1600, 800), "white")
    exif = picture.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": a phone held upright
    picture.save(buffer, "JPEG", exif=exif.tobytes())
    image, full = decode_image_within(buffer.getvalue(), 200_000)
    assert full == (800, 1600) and image.shape[0] > image.shape[1]


@pytest.fixture(scope="module")
def real_client(tmp_path_factory):
    leaderboard = tmp_path_factory.mktemp("lb") / "lb.sqlite3"
    settings = ServerSettings(leaderboard_path=leaderboard, max_analysis_pixels=300_000)
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_face_grid_upload_is_answered_with_the_capped_faces(real_client):
    response = real_client.post("/v1/predict", files={"image": ("grid.jpg", jpeg(face_grid(10, 64)))})
    assert response.status_code == 200
    body = response.json()
    assert (body["width"], body["height"]) == (640, 640)
    assert len(body["faces"]) == 20 and body["truncated"] and body["faces_found"] > 20


def test_boxes_of_a_shrunk_photo_are_in_the_photos_own_pixels(real_client):
    scene = np.full((960, 1280, 3), 120, np.uint8)
    scene[300:540, 700:940] = astronaut_face(240)  # 1.2 MP: shrunk to the 0.3 MP budget for detection
    response = real_client.post("/v1/predict", files={"image": ("big.jpg", jpeg(scene))})
    body = response.json()
    assert (body["width"], body["height"]) == (1280, 960)
    (face,) = body["faces"]
    box = face["box"]
    centre = (box["x"] + box["w"] / 2, box["y"] + box["h"] / 2)
    assert abs(centre[0] - 820) < 30 and abs(centre[1] - 420) < 40 and box["w"] > 100


def test_a_face_grid_webcam_frame_is_answered(real_client):
    with real_client.websocket_connect("/ws/play") as ws:
        ws.send_bytes(jpeg(face_grid(8, 60)))
        reply = ws.receive_json()
    assert reply["type"] == "frame" and reply["status"] == "many_faces" and len(reply["faces"]) == 2


def stalling_client(tmp_path, **settings) -> tuple[TestClient, StallingRecognizer]:
    recognizer = StallingRecognizer()
    defaults = dict(leaderboard_path=tmp_path / "lb.sqlite3", max_concurrent_analyses=1, upload_wait_seconds=0.2)
    app = create_app(ServerSettings(**(defaults | settings)), recognizer=recognizer)
    return TestClient(app), recognizer


def test_an_analysis_past_its_time_limit_is_stopped_with_422(tmp_path):
    client, recognizer = stalling_client(tmp_path, analysis_seconds=0.3)
    with client:
        response = client.post("/v1/predict", files={"image": ("slow.png", scripted_frame(1, 0.5))})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "slow.png: the analysis took over 0.3 s and was stopped; send a smaller or simpler image"
    )
    assert recognizer.stopped.is_set()


def test_when_every_slot_is_busy_an_upload_gets_503_with_retry_after(tmp_path):
    client, recognizer = stalling_client(tmp_path, analysis_seconds=2.0)
    with client:
        first = threading.Thread(
            target=client.post, args=("/v1/predict",), kwargs={"files": {"image": ("a.png", scripted_frame(1, 0.5))}}
        )
        first.start()
        assert recognizer.started.wait(5)
        second = client.post("/v1/predict", files={"image": ("b.png", scripted_frame(1, 0.5))})
        first.join(10)
    assert second.status_code == 503 and second.headers["retry-after"] == "1"
    assert "busy" in second.json()["detail"]


def test_a_busy_server_skips_game_frames_with_a_message(tmp_path):
    client, recognizer = stalling_client(tmp_path, analysis_seconds=1.0, frame_wait_seconds=0.1)
    with client, client.websocket_connect("/ws/play") as a, client.websocket_connect("/ws/play") as b:
        a.send_bytes(scripted_frame(1, 0.5))
        assert recognizer.started.wait(5)
        b.send_bytes(scripted_frame(1, 0.5))
        busy = {"type": "error", "code": "busy", "message": "the server is busy: this frame was skipped"}
        assert b.receive_json() == busy
        assert a.receive_json()["code"] == "frame_too_complex"


def test_an_analysis_stops_when_its_client_has_gone(tmp_path):
    """The Analyser asks `client_gone` while it waits; REST passes Request.is_disconnected."""
    recognizer = StallingRecognizer()
    analyser = Analyser(recognizer, ServerSettings(analysis_seconds=20, max_concurrent_analyses=1))
    polls = []

    async def gone() -> bool:
        polls.append(time.monotonic())
        return len(polls) >= 2

    async def twice() -> list[BaseException]:
        errors = []
        for _ in range(2):  # the second only gets a slot if the first gave it back when its thread ended
            try:
                await analyser.run(scripted_frame(1, 0.5), 20, "x.png", wait_seconds=2, client_gone=gone)
            except (AnalysisStopped, Busy) as e:
                errors.append(e)
        return errors

    first, second = asyncio.run(twice())
    assert isinstance(first, AnalysisStopped) and first.reason == "the client left" and not first.timed_out
    assert isinstance(second, AnalysisStopped)


def test_a_player_who_leaves_mid_analysis_stops_the_work(tmp_path):
    recognizer = StallingRecognizer()
    settings = ServerSettings(leaderboard_path=tmp_path / "lb.sqlite3", analysis_seconds=20)
    with running_server(settings, recognizer=recognizer) as url:

        async def send_and_leave() -> None:
            async with websockets.connect(url.replace("http", "ws", 1) + "/ws/play") as ws:
                await ws.send(scripted_frame(1, 0.5))
                await asyncio.to_thread(recognizer.started.wait, 5)

        asyncio.run(send_and_leave())
        assert recognizer.stopped.wait(5), "the analysis went on after the player had gone"
    assert recognizer.stop_reasons == ["the player left"]
