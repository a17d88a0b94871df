"""Run the game app with uvicorn in a background thread on a free loopback port (real sockets, real server)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from ferkit.game.app import create_app
from ferkit.game.server import uvicorn_config
from ferkit.game.settings import ServerSettings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(settings: ServerSettings, **app_kwargs) -> Iterator[str]:
    """Yields the base URL; stops the server on exit."""
    port = free_port()
    app = create_app(settings, **app_kwargs)
    config = uvicorn_config(app, settings, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def running_ferkit_play(*args: str) -> Iterator[str]:
    """`ferkit play --no-browser` as a user runs it, in its own process; yields the base URL."""
    import subprocess
    import sys
    import urllib.request

    port = free_port()
    command = [sys.executable, "-m", "ferkit.cli", "play", "--no-browser", "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"ferkit play did not start: {process.stderr.read()}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)
