"""The REST API: a photo in, faces out; every bad upload gets its own clear status code."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ferkit.game.app import create_app
from ferkit.game.settings import ServerSettings
from ferkit.infer import Recognizer
from tests.game.fakes import ScriptedRecognizer, scripted_frame

PHOTO = Path(__file__).resolve().parents[2] / "docs" / "predict-astronaut.jpg"


@pytest.fixture(scope="module")
def real_client(tmp_path_factory):
    settings = ServerSettings(leaderboard_path=tmp_path_factory.mktemp("lb") / "lb.sqlite3", max_upload_bytes=2_000_000)
    with TestClient(create_app(settings)) as client:
        yield client


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_healthz_and_openapi(real_client):
    health = real_client.get("/healthz").json()
    assert health == {
        "status": "ok",
        "model": "default.onnx",
        "classes": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
        "judge": True,  # the shipped model carries its judge curves
        "tta": "none",
        "rule": "balanced",  # the shipped model's decision rule: every expression equally likely
    }
    spec = real_client.get("/openapi.json").json()
    assert "/v1/predict" in spec["paths"] and "/healthz" in spec["paths"]
    docs = real_client.get("/docs")
    assert docs.status_code == 200 and "http" not in docs.text.split("<body>")[0].replace("http-equiv", "")
    for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css"):
        assert asset in docs.text and real_client.get(asset).status_code == 200  # offline: no CDN


def test_a_photo_without_faces(real_client):
    response = real_client.post(
        "/v1/predict", files={"image": ("wall.jpg", jpeg(np.full((240, 320, 3), 128, np.uint8)))}
    )
    assert response.status_code == 200
    assert response.json() == {
        "width": 320,
        "height": 240,
        "faces": [],
        "faces_found": 0,
        "truncated": False,
        "model": "default.onnx",
    }


def test_not_an_image_is_415(real_client):
    response = real_client.post("/v1/predict", files={"image": ("notes.jpg", b"hello, not a photo")})
    assert response.status_code == 415
    assert response.json()["detail"] == "notes.jpg: not a readable image (expected JPEG, PNG, BMP, WebP, TIFF or GIF)"
    assert real_client.post("/v1/predict", files={"image": ("empty.png", b"")}).status_code == 415


def test_missing_upload_is_422(real_client):
    assert real_client.post("/v1/predict").status_code == 422


def test_decompression_bomb_is_400(real_client):
    bomb = io.BytesIO()
    Image.new("L", (12_000, 12_000)).save(bomb, "PNG")  # 144 MP of zeros: ~140 KB on the wire
    assert len(bomb.getvalue()) < 2_000_000
    response = real_client.post("/v1/predict", files={"image": ("bomb.png", bomb.getvalue())})
    assert response.status_code == 400
    assert "image too large" in response.json()["detail"]


def test_absurd_side_is_400(real_client):
    strip = io.BytesIO()
    Image.new("L", (40_000, 2)).save(strip, "PNG")
    response = real_client.post("/v1/predict", files={"image": ("strip.png", strip.getvalue())})
    assert response.status_code == 400 and "40000×2" in response.json()["detail"]


def test_corrupt_pixels_are_400(real_client):
    png = cv2.imencode(".png", np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8))[1].tobytes()
    response = real_client.post("/v1/predict", files={"image": ("cut.png", png[: len(png) // 2])})
    assert response.status_code == 400
    assert "cut.png: the 200×200 image's pixel data is damaged" in response.json()["detail"]


def test_oversize_upload_is_413_before_it_is_read(real_client):
    response = real_client.post("/v1/predict", files={"image": ("big.jpg", b"\xff" * 2_500_000)})
    assert response.status_code == 413
    assert "upload too large" in response.json()["detail"]


def test_oversize_chunked_upload_is_413(real_client):
    def body():  # a valid multipart upload streamed without Content-Length
        yield b'--b\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n\r\n'
        for _ in range(30):
            yield b"x" * 100_000
        yield b"\r\n--b--\r\n"

    response = real_client.post(
        "/v1/predict", content=body(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 413


def test_too_many_faces_are_capped_and_said(tmp_path):
    settings = ServerSettings(leaderboard_path=tmp_path / "lb.sqlite3", max_faces=3)
    with TestClient(create_app(settings, recognizer=ScriptedRecognizer())) as client:
        body = client.post("/v1/predict", files={"image": ("crowd.png", scripted_frame(faces=9, happy=0.7))}).json()
    assert body["faces_found"] == 9 and body["truncated"] is True and len(body["faces"]) == 3
    assert body["faces"][0]["label"] == "happy" and body["faces"][0]["probabilities"]["happy"] == pytest.approx(0.7)


def test_faces_carry_raw_probabilities_and_the_judges_acting_scores(real_client):
    from tests.security.test_server_bounds import astronaut_face

    scene = np.full((480, 640, 3), 120, np.uint8)
    scene[120:360, 200:440] = astronaut_face(240)
    (face,) = real_client.post("/v1/predict", files={"image": ("me.jpg", jpeg(scene))}).json()["faces"]
    assert set(face["acting_scores"]) == set(face["probabilities"])
    assert all(0 <= s <= 100 and isinstance(s, int) for s in face["acting_scores"].values())
    top = max(face["probabilities"], key=face["probabilities"].get)
    assert face["acting_scores"][top] >= 50  # the expression the model sees is acted well enough to win


def test_a_server_with_flip_tta_says_so_and_scores_games_itself(tmp_path):
    settings = ServerSettings(leaderboard_path=tmp_path / "lb.sqlite3", tta="flip")
    assert not settings.browser_inference  # the page classifies once: its claims would not match
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json()["tta"] == "flip"
        assert client.get("/api/vision").json()["inference"] == "server"
        photo = cv2.imread(str(PHOTO))
        png = cv2.imencode(".png", photo)[1].tobytes()  # lossless: the server sees these very pixels
        faces = client.post("/v1/predict", files={"image": ("a.png", png, "image/png")}).json()["faces"]
    flipped, plain = Recognizer(tta="flip").predict(photo), Recognizer().predict(photo)
    assert len(faces) == len(flipped) == len(plain) > 0
    for got, want, once in zip(faces, flipped, plain):
        assert got["probabilities"] == pytest.approx(want.probabilities, abs=1e-6)
        assert got["probabilities"] != pytest.approx(once.probabilities, abs=1e-4)  # TTA did change them


def test_the_page_is_told_to_level_eyes_as_the_server_does(real_client):
    """The server's Recognizer levels the eyes before the crop by default; /api/vision tells the page to do the same."""
    assert Recognizer().level_eyes is True
    assert real_client.get("/api/vision").json()["level_eyes"] is True
