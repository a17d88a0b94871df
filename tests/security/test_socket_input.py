"""The game socket: hostile JSON gets an error and an open connection; other sites' pages cannot connect."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from ferkit.game.app import create_app
from ferkit.game.settings import ServerSettings
from tests.game.fakes import ScriptedRecognizer


@pytest.fixture
def client(tmp_path):
    settings = ServerSettings(leaderboard_path=tmp_path / "lb.sqlite3", allowed_origins=("https://ferkit.example",))
    with TestClient(create_app(settings, recognizer=ScriptedRecognizer())) as client:
        yield client


def still_open(ws) -> bool:
    ws.send_json({"type": "ping", "t": 7})
    return ws.receive_json() == {"type": "pong", "t": 7}


@pytest.mark.parametrize("rounds", ["Infinity", "-Infinity", "NaN", "1e400", "2.5", '"5"', "true", "null", "[3]"])
def test_rounds_that_are_not_a_whole_number(client, rounds):
    with client.websocket_connect("/ws/play") as ws:
        ws.send_text(f'{{"type": "start", "name": "x", "rounds": {rounds}}}')
        assert ws.receive_json() == {"type": "error", "code": "bad_message", "message": "rounds must be a whole number"}
        assert still_open(ws)


def test_rounds_far_out_of_range(client):
    with client.websocket_connect("/ws/play") as ws:
        ws.send_text('{"type": "start", "rounds": 1e300}')
        assert ws.receive_json()["message"].startswith("rounds must be between 1 and")
        ws.send_text('{"type": "start", "rounds": 3.0}')
        assert ws.receive_json()["type"] == "game"


@pytest.mark.parametrize("depth", [100_000, 1_000])
def test_deeply_nested_json(client, depth):
    with client.websocket_connect("/ws/play") as ws:
        ws.send_text("[" * depth + "]" * depth)
        assert ws.receive_json()["code"] == "bad_message"
        ws.send_text('{"type": ' + "[" * depth + "]" * depth + "}")
        assert ws.receive_json()["code"] == "bad_message"
        assert still_open(ws)


def test_a_page_from_another_site_cannot_open_the_game_socket(client):
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/ws/play", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert refused.value.code == 1008


@pytest.mark.parametrize("origin", [None, "http://testserver", "https://ferkit.example"])
def test_own_origin_allowed_origins_and_non_browsers_connect(client, origin):
    headers = {"origin": origin} if origin else {}
    with client.websocket_connect("/ws/play", headers=headers) as ws:
        assert still_open(ws)
