"""`ferkit serve` in its own process on a free loopback port, for the server benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(leaderboard: str, port: int, model: str = "default") -> subprocess.Popen:
    """Started and answering /healthz (a RuntimeError after 30 s otherwise)."""
    command = [sys.executable, "-m", "ferkit.cli", "serve", "--port", str(port), "--leaderboard", leaderboard]
    server = subprocess.Popen(
        [*command, "--model", model],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")
