"""Load on the game server: K simulated players on loopback, each streaming webcam JPEGs at 10 fps.

Starts `ferkit serve` in its own process (a temporary leaderboard), connects K WebSocket players that
behave like the page (a 320×240 JPEG every 100 ms, at most 2 frames in flight), and prints frames/s
served, p50/p99 latency from frame sent to its scores received, and errors. `--bad-players N` adds
clients that flood oversize and non-image frames as fast as they can, to show they do not stall others.
Usage: python benchmarks/game_load.py [--players 4] [--fps 10] [--seconds 20] [--bad-players 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import websockets
from serve_process import free_port, start_server

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013.tar.gz"


def webcam_jpeg(data: Path) -> bytes:
    """A 320×240 frame with one FER2013 PrivateTest face filling half its height, as the page sends it."""
    from ferkit.data import load_faces

    face = np.asarray(load_faces(data).split("PrivateTest").faces[0])
    frame = np.full((240, 320), 110, np.uint8)
    frame[45:195, 85:235] = cv2.resize(face, (150, 150), interpolation=cv2.INTER_CUBIC)
    return cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


async def player(url: str, jpeg: bytes, fps: float, seconds: float, latencies: list, errors: list) -> int:
    sent_at: list[float] = []
    received = 0
    async with websockets.connect(url, max_size=1 << 22) as ws:

        async def reader():
            nonlocal received
            async for message in ws:
                reply = json.loads(message)
                if reply["type"] == "frame":
                    latencies.append(time.perf_counter() - sent_at[received])
                    received += 1
                elif reply["type"] == "error":
                    errors.append(reply["code"])

        task = asyncio.create_task(reader())
        start = time.perf_counter()
        tick = 0
        while time.perf_counter() - start < seconds:
            if len(sent_at) - received < 2:  # the page never has more than 2 frames in flight
                sent_at.append(time.perf_counter())
                await ws.send(jpeg)
            tick += 1
            await asyncio.sleep(max(0.0, start + tick / fps - time.perf_counter()))
        await asyncio.sleep(0.5)  # let the last replies arrive
        task.cancel()
    return len(sent_at)


async def bad_player(url: str, seconds: float) -> str:
    """Floods oversize and non-image frames; reconnects when the server cuts it off. Returns what happened."""
    junk = [b"\xff\xd8" + os.urandom(600_000)] + [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100] * 10
    start, k, closed = time.perf_counter(), 0, 0
    while time.perf_counter() - start < seconds:
        try:
            async with websockets.connect(url, max_size=1 << 22) as ws:
                while time.perf_counter() - start < seconds:
                    await ws.send(junk[k % len(junk)])
                    k += 1
                    if k % 10 == 0:
                        await asyncio.sleep(0.001)
        except websockets.ConnectionClosed:
            closed += 1
    return f"sent {k} junk frames, cut off {closed} times"


def bad_players_process(url: str, seconds: float, count: int) -> None:
    """Bad players run in their own process, so their sending does not delay the good players' clocks."""

    async def all_of_them():
        print(await asyncio.gather(*[bad_player(url, seconds) for _ in range(count)]))

    asyncio.run(all_of_them())


async def run(url: str, jpeg: bytes, args) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    bad = None
    if args.bad_players:
        import multiprocessing

        bad = multiprocessing.Process(target=bad_players_process, args=(url, args.seconds, args.bad_players))
        bad.start()
    start = time.perf_counter()
    jobs = [player(url, jpeg, args.fps, args.seconds, latencies, errors) for _ in range(args.players)]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    elapsed = time.perf_counter() - start
    if bad is not None:
        bad.join()
    crashed = [r for r in results if isinstance(r, BaseException)]
    sent = sum(r for r in results[: args.players] if isinstance(r, int))
    ms = np.array(latencies) * 1000
    print(f"players {args.players} at {args.fps:g} fps for {args.seconds:g} s, bad players {args.bad_players}")
    print(f"frames sent {sent}, scored {len(ms)}, served {len(ms) / elapsed:.1f} frames/s")
    if len(ms):
        print(f"latency p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms")
    print(f"errors to good players: {len(errors)} {sorted(set(errors))}; client crashes: {len(crashed)} {crashed[:2]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--fps", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--bad-players", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    args = parser.parse_args()
    jpeg = webcam_jpeg(args.data)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(f"{tmp}/lb.sqlite3", port)
        try:
            asyncio.run(run(f"ws://127.0.0.1:{port}/ws/play", jpeg, args))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
