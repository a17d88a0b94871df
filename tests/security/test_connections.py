"""Connections are bounded: idle and slow clients are closed, uploads must arrive in time, players are capped."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from urllib.parse import urlsplit

import pytest
import websockets

from ferkit.game.settings import ServerSettings
from tests.game.fakes import ScriptedRecognizer
from tests.game.server import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = ServerSettings(
        leaderboard_path=tmp_path_factory.mktemp("lb") / "lb.sqlite3",
        request_head_timeout_s=0.5,
        request_body_timeout_s=0.5,
        keep_alive_seconds=1,
        max_players=1,
    )
    with running_server(settings, recognizer=ScriptedRecognizer()) as url:
        yield urlsplit(url)


def open_socket(server) -> socket.socket:
    return socket.create_connection((server.hostname, server.port), timeout=5)


def seconds_until_closed(sock: socket.socket) -> tuple[float, bytes]:
    """How long the server keeps the connection open from now, and what it said before closing."""
    start, said = time.monotonic(), b""
    while chunk := sock.recv(4096):
        said += chunk
    return time.monotonic() - start, said


def test_a_connection_that_sends_nothing_is_closed(server):
    with open_socket(server) as sock:
        waited, said = seconds_until_closed(sock)
    assert waited < 3 and said == b""


def test_headers_sent_a_byte_at_a_time_are_cut_off(server):
    with open_socket(server) as sock:
        start = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        for _ in range(30):  # slowloris: a header line now and then, never the blank line
            try:
                sock.sendall(b"X-a: b\r\n")
            except OSError:
                break
            time.sleep(0.1)
        seconds_until_closed(sock)
    assert time.monotonic() - start < 4


def test_an_upload_that_trickles_gets_408(server):
    with open_socket(server) as sock:
        sock.sendall(
            b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 100000\r\n\r\n--b\r\n"
        )
        _, said = seconds_until_closed(sock)
    assert said.startswith(b"HTTP/1.1 408") and b"the upload took over 0.5 s" in said


def test_a_keep_alive_connection_works_and_then_idles_out(server):
    with open_socket(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        waited, _ = seconds_until_closed(sock)
    assert waited < 3


def test_players_over_the_cap_are_told_and_closed_with_1013(server):
    url = f"ws://{server.hostname}:{server.port}/ws/play"

    async def two_players():
        async with websockets.connect(url) as first:
            await first.send(json.dumps({"type": "ping", "t": 1}))
            assert json.loads(await first.recv())["type"] == "pong"
            async with websockets.connect(url) as second:
                told = json.loads(await second.recv())
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await second.recv()
            return told, closed.value.rcvd.code

    told, code = asyncio.run(two_players())
    assert told["code"] == "server_full" and code == 1013
