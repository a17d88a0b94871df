"""Load on the game server: K simulated players on loopback, playing as the page does.

Starts `ferkit serve` in its own process (a temporary leaderboard) and connects K WebSocket players.
`--inference server` (the page sends its camera): each player streams a 320×240 JPEG every 100 ms, at
most 2 frames in flight; prints frames/s served, p50/p99 latency from frame sent to its scores received,
and errors. `--bad-players N` adds clients that flood oversize and non-image frames as fast as they can,
to show they do not stall others.
`--inference browser` (the page runs the model): each player plays whole games at the game's own pace
(3 s countdown, 3 s capture, 1.2 s between rounds, 5 rounds) and sends, per round, the claim with its 3
verification pictures; prints claims/s, p50/p99 latency from claim sent to the server's verdict, errors,
and the server process's peak RSS.
Usage: python benchmarks/game_load.py [--players 4] [--fps 10] [--seconds 20] [--bad-players 0]
       python benchmarks/game_load.py --inference browser --players 200 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import base64
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


def claim_pictures() -> tuple[list[dict], int]:
    """The 3 verification pictures a page sends for a smiling face (the README's photo), and its score."""
    from browser_fps import webcam_frame

    from ferkit.game.on_device import VERIFY_MARGIN
    from ferkit.infer import Recognizer

    frame = webcam_frame()
    recognizer = Recognizer()
    (face,) = recognizer.predict(frame)
    box = face.box
    pad = int(np.ceil(max(box.w, box.h) * VERIFY_MARGIN))
    x0, y0 = max(0, box.x - pad), max(0, box.y - pad)
    region = frame[y0 : min(240, box.y + box.h + pad), x0 : min(320, box.x + box.w + pad)]
    jpeg = cv2.imencode(".jpg", region, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()
    picture = {
        "jpeg": base64.b64encode(jpeg).decode(),
        "box": {"x": box.x - x0, "y": box.y - y0, "w": box.w, "h": box.h},
    }
    return [picture] * 3, len(jpeg)


async def browser_player(url: str, pictures: list[dict], seconds: float, delay: float, stats: dict) -> None:
    """Whole games with the page running the model: the server sees only game messages and claims."""
    await asyncio.sleep(delay)  # players arrive over the first seconds, not all in one instant
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        async with websockets.connect(url, max_size=1 << 22) as ws:
            if not await browser_game(ws, pictures, stats):
                await asyncio.sleep(1.0)  # a game that went wrong: the page would start again


async def browser_game(ws, pictures: list[dict], stats: dict) -> bool:
    """One 5-round game as the page plays it; False when the server answered with an error."""
    await ws.send(json.dumps({"type": "start", "name": "bot", "rounds": 5, "inference": "browser"}))
    game = json.loads(await ws.recv())
    if game.get("type") != "game":
        stats["errors"].append(game.get("code"))
        return False
    for index, target in enumerate(game["targets"]):
        await asyncio.sleep(game["countdown_seconds"])
        await ws.send(json.dumps({"type": "capture", "round": index}))
        await ws.recv()
        await asyncio.sleep(game["capture_seconds"])  # the page analyses its own camera meanwhile
        claim = {"type": "claim", "round": index, "score": stats["scores"].get(target, 0), "frames": pictures}
        sent = time.perf_counter()
        await ws.send(json.dumps(claim))
        while True:
            reply = json.loads(await ws.recv())
            if reply["type"] == "round":
                stats["latencies"].append(time.perf_counter() - sent)
                stats["refused"] += not reply["accepted"]
                break
            if reply["type"] == "error" and reply["code"] == "busy":  # the page sends the claim again
                stats["errors"].append("busy")
                await asyncio.sleep(0.5)
                await ws.send(json.dumps(claim))
            elif reply["type"] == "error" and reply["code"] != "claim_refused":
                stats["errors"].append(reply["code"])
                return False
        await asyncio.sleep(1.2)
    while json.loads(await ws.recv())["type"] != "over":
        pass
    stats["games"] += 1
    return True


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run_browser(url: str, server_pid: int, args) -> None:
    pictures, jpeg_bytes = claim_pictures()
    stats: dict = {"latencies": [], "errors": [], "refused": 0, "games": 0, "scores": {}}
    # the honest page's claims: what the server's judge gives these pictures, learnt from one probe game
    from ferkit.game.claims import ClaimFrame, rescore
    from ferkit.imagefile import decode_image_within
    from ferkit.infer import Recognizer
    from ferkit.labels import EMOTIONS
    from ferkit.vision.detect import FaceBox

    recognizer = Recognizer()
    image, _ = decode_image_within(base64.b64decode(pictures[0]["jpeg"]), 640 * 480)
    b = pictures[0]["box"]
    frames = [ClaimFrame(image, FaceBox(b["x"], b["y"], b["w"], b["h"], 1.0))] * 3
    stats["scores"] = {name: rescore(recognizer, name, frames).score for name in EMOTIONS}
    start = time.perf_counter()
    spread = min(7.0, args.seconds / 4)
    jobs = [browser_player(url, pictures, args.seconds, spread * k / args.players, stats) for k in range(args.players)]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    elapsed = time.perf_counter() - start
    crashed = [r for r in results if isinstance(r, BaseException)]
    ms = np.array(stats["latencies"]) * 1000
    errors = stats["errors"]
    print(f"players {args.players}, browser inference, {args.seconds:g} s; claims carry 3 × {jpeg_bytes:,}-byte JPEGs")
    print(f"claims verified {len(ms)} ({len(ms) / elapsed:.1f}/s), games {stats['games']}, refused {stats['refused']}")
    if len(ms):
        p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
        print(f"claim → verdict p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ms.max():.1f} ms")
    print(f"errors: {len(errors)} {sorted(set(errors))}; client crashes: {len(crashed)} {crashed[:2]}")
    print(f"server peak RSS {peak_rss_mb(server_pid):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inference", choices=("server", "browser"), default="server")
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--fps", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--bad-players", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(f"{tmp}/lb.sqlite3", port)
        try:
            if args.inference == "browser":
                asyncio.run(run_browser(f"ws://127.0.0.1:{port}/ws/play", server.pid, args))
            else:
                asyncio.run(run(f"ws://127.0.0.1:{port}/ws/play", webcam_jpeg(args.data), args))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
