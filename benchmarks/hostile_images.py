"""Hostile images against `ferkit serve`: the server's peak RSS and the worst answer time, per case.

Builds the images an attacker sent (issue 15): a 3920² JPEG tiled with 2,401 small faces, a ~400 KB
webcam frame tiled with faces (four sockets send one each), a ~600 KB face grid uploaded six times in
parallel, and a plain 7000×7000 JPEG. Starts a fresh `ferkit serve` process per case and prints:
request statuses, the slowest answer, the server's peak RSS (VmHWM) and the RSS it still holds after.
A watchdog kills the server past --kill-gb so the machine survives a version without bounds.
Faces come from FER2013 PublicTest when --data exists, else from docs/predict-astronaut.jpg.
Usage: python benchmarks/hostile_images.py [--cases grid2401,ws4,grid6,plain7000] [--kill-gb 14]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import websockets
from serve_process import free_port, start_server

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "fer2013.tar.gz"


def face_tiles(data: Path, count: int) -> list[np.ndarray]:
    """`count` gray 48×48 faces: FER2013 PublicTest when available, else the astronaut's face."""
    if data.exists():
        from ferkit.data import load_faces

        faces = load_faces(data).split("PublicTest").faces
        return [np.asarray(faces[k % len(faces)]) for k in range(count)]
    photo = cv2.imread(str(ROOT / "docs" / "predict-astronaut.jpg"), cv2.IMREAD_GRAYSCALE)
    face = cv2.resize(photo[40:190, 145:295], (48, 48), interpolation=cv2.INTER_AREA)
    return [face] * count


def face_grid(tiles: list[np.ndarray], per_row: int, tile: int, quality: int) -> bytes:
    rows = [
        np.hstack([cv2.resize(t, (tile, tile)) for t in tiles[r * per_row : (r + 1) * per_row]]) for r in range(per_row)
    ]
    image = cv2.cvtColor(np.vstack(rows), cv2.COLOR_GRAY2BGR)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def plain_jpeg(side: int) -> bytes:
    small = np.random.default_rng(0).integers(0, 255, (side // 100, side // 100, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", cv2.resize(small, (side, side), interpolation=cv2.INTER_CUBIC))[1].tobytes()


def post(url: str, name: str, body: bytes) -> tuple[int, float]:
    boundary = "ferkitbench"
    payload = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url + "/v1/predict", data=payload, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status = response.status
            response.read()
    except urllib.error.HTTPError as e:
        status = e.code
    except OSError:
        status = -1  # connection dropped (server killed)
    return status, time.perf_counter() - start


async def send_frame(url: str, frame: bytes) -> tuple[str, float]:
    start = time.perf_counter()
    try:
        async with websockets.connect(url, max_size=1 << 22) as ws:
            await ws.send(frame)
            while True:
                reply = json.loads(await asyncio.wait_for(ws.recv(), 120))
                if reply["type"] in ("frame", "error"):
                    return reply.get("code", reply["type"]), time.perf_counter() - start
    except (OSError, websockets.ConnectionClosed, asyncio.TimeoutError):
        return "dropped", time.perf_counter() - start


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Watchdog(threading.Thread):
    """Kills the server when its RSS passes the limit, and remembers that it did."""

    def __init__(self, process: subprocess.Popen, limit_gb: float) -> None:
        super().__init__(daemon=True)
        self.process, self.limit_kb, self.killed, self.stop = process, limit_gb * 1024**2, False, False

    def run(self) -> None:
        while not self.stop and self.process.poll() is None:
            try:
                if rss_kb(self.process.pid, "VmRSS") > self.limit_kb:
                    self.process.kill()
                    self.killed = True
            except OSError:
                return
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default="grid2401,ws4,grid6,plain7000")
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--kill-gb", type=float, default=14.0)
    args = parser.parse_args()
    tiles = face_tiles(args.data, 2401)
    images = {
        "grid2401": face_grid(tiles, 49, 80, 90),  # 3920², 2,401 faces
        "ws4": face_grid(tiles[:144], 12, 80, 92),  # 960², 144 faces, under the 512 KB frame limit
        "grid6": face_grid(tiles[:400], 20, 80, 90),  # 1600², 400 faces
        "plain7000": plain_jpeg(7000),
    }
    print(f"{'case':<10} {'bytes':>10} {'answers':<28} {'worst s':>8} {'peak RSS GB':>12} {'held GB':>8}")
    for case in args.cases.split(","):
        body = images[case]
        with tempfile.TemporaryDirectory() as tmp:  # a fresh server per case: what one case costs alone
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            server = start_server(f"{tmp}/lb.sqlite3", port)
            dog = Watchdog(server, args.kill_gb)
            dog.start()
            try:
                answers = send_case(case, body, url)
                dog.stop = True
                alive = server.poll() is None
                peak = rss_kb(server.pid, "VmHWM") / 1024**2 if alive else float("nan")
                held = rss_kb(server.pid, "VmRSS") / 1024**2 if alive else float("nan")
            finally:
                server.terminate()
                server.wait(10)
        codes = ",".join(str(a[0]) for a in answers) + (" (server killed)" if dog.killed else "")
        worst = max(a[1] for a in answers)
        print(f"{case:<10} {len(body):>10,} {codes:<28} {worst:>8.1f} {peak:>12.2f} {held:>8.2f}", flush=True)


def send_case(case: str, body: bytes, url: str) -> list[tuple]:
    """ws4: four sockets send the frame at once; grid6: six parallel uploads; others: one upload."""
    if case == "ws4":
        ws_url = url.replace("http", "ws", 1) + "/ws/play"

        async def four() -> list[tuple]:
            return await asyncio.gather(*[send_frame(ws_url, body) for _ in range(4)])

        return asyncio.run(four())
    copies = 6 if case == "grid6" else 1
    with ThreadPoolExecutor(copies) as pool:
        return list(pool.map(lambda _: post(url, f"{case}.jpg", body), range(copies)))


if __name__ == "__main__":
    main()
