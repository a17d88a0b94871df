"""The game over a WebSocket: one player per connection, JPEG frames in, faces and round scores out.

Protocol (JSON text both ways, frames as binary JPEG messages from the page):
  page → {"type": "start", "name": str, "rounds": int, "inference": "server" | "browser"}
                                                             server → {"type": "game", inference, targets, timings}
  page → {"type": "capture", "round": i}  (after the page's 3-2-1 countdown)
  server inference:
    page → JPEG bytes, about `fps` a second                  server → {"type": "frame", seq, faces, status, ...}
    when the round has `frames_per_round` frames with exactly one face → {"type": "round", score, thumbnail}
  browser inference (the page runs the model, on_device.py; frames may still come, and are not scored):
    page → {"type": "claim", "round": i, "score": s, "frames": [{"jpeg": base64, "box": {x, y, w, h}} × 3]}
    server → {"type": "round", score (its own), claimed, accepted, ...}, after a "claim_refused" error
    when the claim is more than `claim_tolerance` away (claims.py)
  after the last round the game is written to the leaderboard     → {"type": "over", total, rank, rounds}
  anything wrong → {"type": "error", "code": ..., "message": ...}; the connection stays open.
  Every admitted frame gets exactly one reply: a "frame", or an error with code bad_frame,
  frame_too_large, frame_too_complex or busy. Frames over the rate limit are dropped with at most one
  "flood" error a second; a client that keeps flooding is closed with 1008.

Only pages from the server's own origin may connect (browsers send an Origin header; other clients
send none): any web page could otherwise drive a player's local server.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from ferkit.errors import DataError
from ferkit.game.analysis import Analyser, Busy
from ferkit.game.claims import BadClaim, parse_claim, refusal_message, rescore
from ferkit.game.frames import FrameResult, thumbnail_data_url
from ferkit.game.leaderboard import Leaderboard, RoundRecord
from ferkit.game.on_device import browser_ready
from ferkit.game.rules import (
    MAX_ROUNDS,
    RoundScorer,
    clean_player_name,
    draw_targets,
    game_total,
    playable_expressions,
)
from ferkit.game.settings import ServerSettings
from ferkit.vision.detect import FaceBox
from ferkit.vision.following import followed_min_size
from ferkit.vision.stop import AnalysisStopped, StopSignal

router = APIRouter()


NOT_SAVED_MESSAGE = (
    "The leaderboard could not be written just now. Your game is kept on the server and will be added "
    "as soon as the leaderboard can be written again."
)
FLOOD_CLOSE_SECONDS = 5  # about how long a client may flood at 5× the frame limit before it is cut off


class Flooding(Exception):
    """The client keeps sending far over the frame limit: close its socket so it cannot slow the others."""


def error(code: str, message: str) -> dict:
    return {"type": "error", "code": code, "message": message}


class TokenBucket:
    """At most `rate` frames a second on average, bursts of `burst`: a flooding page is slowed, not served."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.last = rate, burst, burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class Game:
    player: str
    targets: list[str]
    scorers: list[RoundScorer] = field(default_factory=list)
    thumbnails: list[str] = field(default_factory=list)
    capturing: bool = False
    valid_frames: int = 0
    inference: str = "server"  # "browser": the page scores each round and the server checks its claim
    capture_started: float = 0.0

    @property
    def round_index(self) -> int:
        return len(self.scorers) - 1


class PlayerConnection:
    """The state of one page: its game (if any), its frame counter, its flood limiter, its pending work."""

    MAX_PENDING_TEXTS = 16  # a page sends a handful of JSON messages a game; more waiting is a flood

    def __init__(self, analyser: Analyser, leaderboard: Leaderboard, settings: ServerSettings) -> None:
        self.analyser, self.leaderboard, self.settings = analyser, leaderboard, settings
        self.limiter = TokenBucket(settings.max_frames_per_second, burst=max(5.0, settings.fps))
        # frames admitted but not yet analysed: at most one burst, so a slow server drops instead of queueing
        self.max_pending_frames = int(self.limiter.burst)
        self.pending_frames = self.pending_texts = 0
        self.stop: StopSignal | None = None  # the running analysis, cancelled when the client leaves
        self.gone = False
        self.rng = random.Random(settings.seed)
        self.game: Game | None = None
        self.seq = 0
        self.followed: list[FaceBox] = []  # the faces of the last frame: the next detection may look less
        self.last_flood_warning = 0.0
        # dropped frames draw on a second bucket: sustained sending at 5× the limit empties it in ~5 s
        drop_rate = 4 * settings.max_frames_per_second
        self.drop_budget = TokenBucket(drop_rate, burst=FLOOD_CLOSE_SECONDS * drop_rate)

    def leave(self) -> None:
        """The client has gone: stop its running analysis at the next checkpoint."""
        self.gone = True
        if self.stop is not None:
            self.stop.cancel("the player left")

    def admit_text(self, text: str) -> tuple[str, object]:
        """What the reader queues for a text message; Flooding when too many are waiting."""
        if self.pending_texts >= self.MAX_PENDING_TEXTS:
            if not self.drop_budget.take():
                raise Flooding
            return ("replies", [])
        self.pending_texts += 1
        return ("text", text)

    def admit_frame(self, raw: bytes) -> tuple[str, object]:
        """What the reader queues for a frame: the frame itself, or the replies that say why it was dropped."""
        s = self.settings
        if not self.limiter.take():  # first, so a flood costs almost nothing whatever it sends
            if not self.drop_budget.take():
                raise Flooding
            now = time.monotonic()
            if now - self.last_flood_warning < 1.0:
                return ("replies", [])  # one warning a second is enough; the frame is dropped either way
            self.last_flood_warning = now
            text = f"too many frames: at most {s.max_frames_per_second:g} a second are analysed"
            return ("replies", [error("flood", text)])
        if len(raw) > s.max_frame_bytes:
            text = f"frame of {len(raw):,} bytes; the limit is {s.max_frame_bytes:,}"
            return ("replies", [error("frame_too_large", text)])
        if self.pending_frames >= self.max_pending_frames:
            return ("replies", [error("busy", "the server is behind: this frame was skipped")])
        self.pending_frames += 1
        return ("frame", raw)

    async def on_text(self, text: str) -> list[dict]:
        self.pending_texts -= 1
        try:
            message = json.loads(text)
            kind = message["type"]
        except (ValueError, TypeError, KeyError, RecursionError):  # RecursionError: JSON nested 100k deep
            return [error("bad_message", 'expected JSON with a "type", or a binary JPEG frame')]
        if not isinstance(kind, str):
            return [error("bad_message", '"type" must be a string: start, capture or ping')]
        if kind == "start":
            return self.start(message)
        if kind == "capture":
            return self.capture(message)
        if kind == "claim":
            return await self.claim(message)
        if kind == "ping":
            return [{"type": "pong", "t": message.get("t")}]
        return [error("bad_message", f"unknown message type {kind[:40]!r}; expected start, capture, claim or ping")]

    def start(self, message: dict) -> list[dict]:
        s = self.settings
        rounds = message.get("rounds", s.rounds)
        # json.loads reads Infinity, NaN and 1e400 (inf) as floats; a bool is an int to Python
        if isinstance(rounds, bool) or not isinstance(rounds, (int, float)) or not math.isfinite(rounds):
            return [error("bad_message", "rounds must be a whole number")]
        if rounds != int(rounds):
            return [error("bad_message", "rounds must be a whole number")]
        rounds = int(rounds)
        if not 1 <= rounds <= MAX_ROUNDS:
            return [error("bad_message", f"rounds must be between 1 and {MAX_ROUNDS}")]
        playable = playable_expressions(self.analyser.recognizer.class_names, contempt_rounds=s.contempt_rounds)
        targets = list(s.targets[:rounds]) if s.targets else draw_targets(rounds, self.rng, playable)
        inference = "server"
        if message.get("inference") == "browser":
            if not browser_ready(self.analyser.recognizer, s):
                return [error("bad_message", "this server scores frames itself: start with inference 'server'")]
            inference = "browser"
        self.game = Game(clean_player_name(message.get("name")), targets, inference=inference)
        return [
            {
                "type": "game",
                "player": self.game.player,
                "inference": inference,
                "targets": targets,
                "countdown_seconds": s.countdown_seconds,
                "capture_seconds": s.capture_seconds,
                "fps": s.fps,
                "frames_per_round": s.frames_per_round,
            }
        ]

    def capture(self, message: dict) -> list[dict]:
        game = self.game
        if game is None:
            return [error("no_game", "start a game before capturing")]
        expected = len(game.scorers)
        if message.get("round") != expected or expected >= len(game.targets):
            return [error("bad_round", f"the next round is {expected}")]
        game.scorers.append(RoundScorer(game.targets[expected], judge=self.analyser.recognizer.judge))
        game.thumbnails.append("")
        game.capturing, game.valid_frames = True, 0
        game.capture_started = time.monotonic()
        return [{"type": "capturing", "round": expected, "target": game.targets[expected]}]

    async def claim(self, message: dict) -> list[dict]:
        """A page's score for the round it captured: re-scored here from the frames it sent (claims.py)."""
        game, s = self.game, self.settings
        if game is None:
            return [error("no_game", "start a game before claiming a score")]
        if game.inference != "browser":
            return [error("bad_message", "this game's frames are scored by the server: it takes no claims")]
        if not game.capturing or message.get("round") != game.round_index:
            return [error("bad_round", f"round {message.get('round')!r} is not being captured")]
        if time.monotonic() - game.capture_started < s.frames_per_round / s.max_frames_per_second:
            return [error("bad_claim", "a claim came before the round's frames could have been captured")]
        hold = game.scorers[-1].hold
        try:
            claim = parse_claim(message, hold, max_frame_bytes=s.max_frame_bytes)
        except BadClaim as e:
            return [error("bad_claim", str(e))]
        stop = StopSignal(s.analysis_seconds)
        target = game.targets[game.round_index]
        try:
            work = (rescore, self.analyser.recognizer, target, claim.frames, stop)
            verdict = await self.analyser.call(*work, wait_seconds=s.upload_wait_seconds, stop=stop)
        except Busy:
            return [error("busy", "the server is busy: send the claim again")]
        except AnalysisStopped as e:
            return [error("frame_too_complex", e.reason)]
        accepted = abs(claim.score - verdict.score) <= s.claim_tolerance
        game.scorers[-1] = verdict.scorer
        game.thumbnails[-1] = verdict.thumbnail
        game.capturing = False
        replies = [] if accepted else [error("claim_refused", refusal_message(claim.score, verdict))]
        return replies + await self._round_over(game, {"claimed": claim.score, "accepted": accepted})

    async def on_frame(self, raw: bytes) -> list[dict]:
        """An admitted frame analysed (exactly one reply about it), and the round's progress."""
        self.pending_frames -= 1
        s = self.settings
        self.stop = StopSignal(s.analysis_seconds)
        if self.gone:
            return []
        try:
            min_size = followed_min_size(self.followed, self.seq)  # the page does the same (faces.mjs)
            result = await self.analyser.run(
                raw, 2, "frame", wait_seconds=s.frame_wait_seconds, stop=self.stop, min_size=min_size
            )
        except DataError as e:
            return [error("bad_frame", e.problem)]
        except Busy:
            return [error("busy", "the server is busy: this frame was skipped")]
        except AnalysisStopped as e:
            return [error("frame_too_complex", e.reason)] if e.timed_out else []
        finally:
            self.stop = None
        self.seq += 1
        self.followed = [face.box for face in result.faces]
        reply = {"type": "frame", "seq": self.seq, **result.to_dict()}
        replies = [reply]
        game = self.game
        if game is not None and game.capturing and game.inference == "server":
            replies += await self._score(game, result, reply)
        return replies

    async def _score(self, game: Game, result: FrameResult, reply: dict) -> list[dict]:
        scorer = game.scorers[-1]
        if result.status == "ok":  # the capture clock only runs while exactly one face is in view
            face = result.faces[0]
            probability = face.probabilities.get(scorer.target, 0.0)
            if scorer.add(probability, face.label == scorer.target):
                game.thumbnails[-1] = thumbnail_data_url(result.image, face.box)
            game.valid_frames += 1
            reply["target_probability"] = probability  # the model's raw probability of the target
            reply["target_score"] = scorer.score_of(probability)  # what it would earn if held
        reply["progress"] = game.valid_frames / self.settings.frames_per_round
        if game.valid_frames < self.settings.frames_per_round:
            return []
        game.capturing = False
        return await self._round_over(game)

    async def _round_over(self, game: Game, extra: dict | None = None) -> list[dict]:
        """The round's result (and the game's, after the last round)."""
        scorer = game.scorers[-1]
        done = [
            {
                "type": "round",
                "round": game.round_index,
                "target": scorer.target,
                "score": scorer.score,
                "nailed": scorer.nailed,
                "held_probability": scorer.held_probability(),
                "thumbnail": game.thumbnails[-1],
                **(extra or {}),
            }
        ]
        if len(game.scorers) == len(game.targets):
            done.append(await self._finish(game))
        return done

    async def _finish(self, game: Game) -> dict:
        scores = [s.score for s in game.scorers]
        total = game_total(scores, [s.nailed for s in game.scorers])
        records = [RoundRecord(s.target, s.score) for s in game.scorers]
        saved = await run_in_threadpool(self.leaderboard.save_game, game.player, records, total)
        self.game = None
        return {
            "type": "over",
            "player": game.player,
            "total": total,
            "game_id": saved.game_id,
            "rank": saved.rank,
            "saved": saved.saved,
            "message": "" if saved.saved else NOT_SAVED_MESSAGE,
            "rounds": [
                {"target": s.target, "score": s.score, "nailed": s.nailed, "thumbnail": t}
                for s, t in zip(game.scorers, game.thumbnails)
            ],
        }


def origin_allowed(websocket: WebSocket, settings: ServerSettings) -> bool:
    """No Origin (not a browser), the server's own origin, or one the settings allow."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    if origin in settings.allowed_origins:
        return True
    return urlsplit(origin).netloc.lower() == (websocket.headers.get("host") or "").lower()


async def _receive_into(websocket: WebSocket, connection: PlayerConnection, inbox: asyncio.Queue) -> None:
    """Reads the socket while frames are analysed: flood limits apply on arrival, and a client that
    leaves mid-analysis is noticed at once (its analysis is cancelled)."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("bytes") is not None:
                inbox.put_nowait(connection.admit_frame(message["bytes"]))
            else:
                inbox.put_nowait(connection.admit_text(message.get("text") or ""))
    except Flooding:
        inbox.put_nowait(("flooding", None))
        return
    except (WebSocketDisconnect, RuntimeError):
        pass
    connection.leave()
    inbox.put_nowait(("closed", None))


@router.websocket("/ws/play")
async def play_socket(websocket: WebSocket) -> None:
    state = websocket.app.state
    if not origin_allowed(websocket, state.settings):
        await websocket.close(code=1008, reason="this page's origin may not use this game server")  # HTTP 403
        return
    await websocket.accept()
    if state.players >= state.settings.max_players:
        await websocket.send_json(error("server_full", "The game server is full: try again in a minute."))
        await websocket.close(code=1013, reason="the game server is full")  # 1013: try again later
        return
    state.players += 1
    try:
        await _play(websocket, PlayerConnection(state.analyser, state.leaderboard, state.settings))
    finally:
        state.players -= 1


async def _play(websocket: WebSocket, connection: PlayerConnection) -> None:
    """One player's socket: a reader task queues messages, this loop answers them in order."""
    inbox: asyncio.Queue = asyncio.Queue()
    reader = asyncio.create_task(_receive_into(websocket, connection, inbox))
    try:
        while True:
            kind, item = await inbox.get()
            if kind == "closed":
                return
            if kind == "flooding":
                await websocket.close(code=1008, reason="flooding: far more frames than allowed")
                return
            if kind == "frame":
                replies = await connection.on_frame(item)
            elif kind == "text":
                replies = await connection.on_text(item)
            else:
                replies = item
            for reply in replies:
                await websocket.send_json(reply)
    except WebSocketDisconnect:
        return
    finally:
        connection.leave()
        reader.cancel()
