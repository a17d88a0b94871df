"""The leaderboard: finished games in SQLite (WAL, so several servers can share one file safely).

Every game records which judge scored it (the model file's name and content hash, and its decision rule):
two models score the same face differently, so a leaderboard ranks only the games of its own judge.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from ferkit.errors import SetupError, UnknownName
from ferkit.labels import EMOTIONS, FERPLUS_EMOTIONS

SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    player TEXT NOT NULL,
    total INTEGER NOT NULL,
    rounds INTEGER NOT NULL,
    played_at REAL NOT NULL,
    judge TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS rounds (
    game_id INTEGER NOT NULL REFERENCES games(id) ON DELETE CASCADE,
    round INTEGER NOT NULL,
    target TEXT NOT NULL,
    score INTEGER NOT NULL,
    PRIMARY KEY (game_id, round)
);
CREATE INDEX IF NOT EXISTS rounds_by_target ON rounds(target, score DESC);
"""
# after any column the database may lack (a file made before games had a judge)
INDEXES = "CREATE INDEX IF NOT EXISTS games_by_judge ON games(judge, played_at);"
UNKNOWN_JUDGE = ""  # games written before the judge was recorded: kept, never ranked with a known judge's


@dataclass(frozen=True)
class RoundRecord:
    target: str
    score: int


log = logging.getLogger(__name__)

# A write that fails (database locked past the busy timeout, disk full, I/O error) is retried after
# these pauses; if it still fails the game is kept in a pending file and written later.
RETRY_PAUSES_S = (0.2, 0.6, 1.5)


@dataclass(frozen=True)
class SavedGame:
    """Where a finished game went: `game_id` when it is on the leaderboard, else kept to be written later."""

    game_id: int | None
    rank: int | None = None

    @property
    def saved(self) -> bool:
        return self.game_id is not None


def default_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("ferkit")) / "best-actor.sqlite3"


class Leaderboard:
    """One connection per call, so the object is safe to share between threads and processes."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        judge: str = UNKNOWN_JUDGE,
        busy_timeout_s: float = 3.0,
        retry_pauses_s=RETRY_PAUSES_S,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.judge = judge  # games are written with it and ranked only among its own
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.busy_timeout_s, self.retry_pauses_s = busy_timeout_s, tuple(retry_pauses_s)
        # games that could not be written: one JSON line each, next to the database, flushed on the next save
        self.pending_path = self.path.with_name(self.path.name + ".pending.jsonl")
        self._kept_in_memory: list[dict] = []  # only when even the pending file cannot be written
        self._pending_lock = threading.Lock()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; persists in the file
            db.executescript(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(games)")}
            if "judge" not in columns:  # a database from before judges were recorded
                db.execute(f"ALTER TABLE games ADD COLUMN judge TEXT NOT NULL DEFAULT '{UNKNOWN_JUDGE}'")
            db.executescript(INDEXES)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection per call, always closed (autocommit; transactions are explicit)."""
        try:
            db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        except sqlite3.Error as e:
            raise SetupError(f"{self.path}: cannot open the leaderboard database ({e})") from None
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.row_factory = sqlite3.Row
            yield db
        finally:
            db.close()

    def record_game(
        self, player: str, rounds: Sequence[RoundRecord], total: int, played_at: float | None = None
    ) -> int:
        """Write a finished game and its rounds in one transaction; returns the game's id."""
        with self._connect() as db:
            try:
                db.execute("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlock under load
                game_id = self._insert(db, player, rounds, total, played_at or time.time(), self.judge)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return int(game_id)

    @staticmethod
    def _insert(
        db: sqlite3.Connection, player: str, rounds: Sequence[RoundRecord], total: int, at: float, judge: str
    ) -> int:
        game_id = db.execute(
            "INSERT INTO games (player, total, rounds, played_at, judge) VALUES (?, ?, ?, ?, ?)",
            (player, int(total), len(rounds), at, judge),
        ).lastrowid
        db.executemany(
            "INSERT INTO rounds (game_id, round, target, score) VALUES (?, ?, ?, ?)",
            [(game_id, i, r.target, int(r.score)) for i, r in enumerate(rounds)],
        )
        return int(game_id)

    # -- never lose a finished game ---------------------------------------------------------------
    def save_game(self, player: str, rounds: Sequence[RoundRecord], total: int) -> SavedGame:
        """record_game with retries; if the database stays unwritable, keep the game and write it later.

        Games kept earlier are written first, whenever a save succeeds. Never raises for a database
        problem: the caller tells the player whether the game is on the leaderboard yet.
        """
        played_at = time.time()
        for pause in (*self.retry_pauses_s, None):
            try:
                self.flush_pending()
                game_id = self.record_game(player, rounds, total, played_at)
                return SavedGame(game_id, self.rank_of(game_id))
            except (sqlite3.Error, RuntimeError, OSError) as e:
                problem = e
                if pause is not None:
                    time.sleep(pause)
        rounds_kept = [asdict(r) for r in rounds]
        self._keep(
            {"player": player, "rounds": rounds_kept, "total": total, "played_at": played_at, "judge": self.judge}
        )
        log.warning("%s: could not record %r's game (%s); kept in %s", self.path, player, problem, self.pending_path)
        return SavedGame(None)

    def _keep(self, game: dict) -> None:
        with self._pending_lock:
            try:
                with open(self.pending_path, "a", encoding="utf-8") as f:
                    fcntl.flock(f, fcntl.LOCK_EX)  # other server processes may append too
                    f.write(json.dumps(game) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as e:  # the disk is full or read-only: hold it until a save works
                log.error("%s: cannot keep a pending game either (%s); holding it in memory", self.pending_path, e)
                self._kept_in_memory.append(game)

    def pending_games(self) -> list[dict]:
        """Games kept because the database could not be written, oldest first."""
        with self._pending_lock:
            kept = list(self._kept_in_memory)
        if self.pending_path.exists():
            kept = self._parse_kept(self.pending_path.read_text(encoding="utf-8")) + kept
        return kept

    def _parse_kept(self, text: str) -> list[dict]:
        games = []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                games.append(json.loads(line)) if line.strip() else None
            except ValueError:  # a line cut short by a crash mid-append: nothing else can be recovered
                log.error("%s, line %d: not a whole game; skipped", self.pending_path, number)
        return games

    def flush_pending(self) -> int:
        """Write every kept game in one transaction, then forget them; returns how many were written."""
        if not self._kept_in_memory and not self.pending_path.exists():
            return 0
        with self._pending_lock, open(self.pending_path, "a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            games = self._parse_kept(f.read()) + self._kept_in_memory
            if not games:
                return 0
            with self._connect() as db:
                try:
                    db.execute("BEGIN IMMEDIATE")
                    for g in games:
                        records = [RoundRecord(**r) for r in g["rounds"]]
                        judge = g.get("judge", UNKNOWN_JUDGE)  # lines kept by an older version have none
                        self._insert(db, g["player"], records, g["total"], g["played_at"], judge)
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            # committed: a crash before the next two lines would write these games twice, never lose them
            f.truncate(0)
            self._kept_in_memory.clear()
        log.info("%s: wrote %d kept game(s)", self.path, len(games))
        return len(games)

    # Games are ranked by points per round, so a 10-round game does not beat a 3-round one by length alone.
    _PER_ROUND = "CAST(total AS REAL) / MAX(rounds, 1)"

    def top_games(self, limit: int = 10) -> list[dict]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT id, player, total, rounds, played_at, {self._PER_ROUND} AS per_round FROM games "
                "WHERE judge = ? ORDER BY per_round DESC, total DESC, played_at LIMIT ?",
                (self.judge, limit),
            ).fetchall()
        return [dict(row) | {"per_round": round(row["per_round"], 1)} for row in rows]

    def top_rounds(self, target: str, limit: int = 10) -> list[dict]:
        if target not in EMOTIONS and target not in FERPLUS_EMOTIONS:
            known = ", ".join(dict.fromkeys(EMOTIONS + FERPLUS_EMOTIONS))
            raise UnknownName(f"unknown expression {target!r}; expected one of {known}")
        with self._connect() as db:
            rows = db.execute(
                "SELECT g.id AS game_id, g.player, r.score, g.played_at FROM rounds r JOIN games g ON g.id = r.game_id"
                " WHERE r.target = ? AND g.judge = ? ORDER BY r.score DESC, g.played_at LIMIT ?",
                (target, self.judge, limit),
            ).fetchall()
        return [dict(row) for row in rows]

    def rank_of(self, game_id: int) -> int:
        """1-based place of a game among its judge's games by points per round (ties share the better place)."""
        with self._connect() as db:
            (rank,) = db.execute(
                f"SELECT 1 + COUNT(*) FROM games g WHERE g.judge = (SELECT judge FROM games WHERE id = ?) "
                f"AND {self._PER_ROUND} > (SELECT {self._PER_ROUND} FROM games WHERE id = ?)",
                (game_id, game_id),
            ).fetchone()
        return int(rank)

    def count_games(self) -> int:
        """Every game in the file, whichever judge scored it."""
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM games").fetchone()[0])

    def snapshot(self, limit: int = 10) -> dict:
        """This judge's top games and top rounds per expression played, as the page shows."""
        with self._connect() as db:
            targets = [
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT r.target FROM rounds r JOIN games g ON g.id = r.game_id WHERE g.judge = ?"
                    " ORDER BY r.target",
                    (self.judge,),
                )
            ]
        played = [t for t in targets if t in EMOTIONS or t in FERPLUS_EMOTIONS]
        return {
            "judge": self.judge,
            "games": self.top_games(limit),
            "by_expression": {t: self.top_rounds(t, limit) for t in played},
        }
