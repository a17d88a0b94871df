"""The leaderboard: finished games in SQLite (WAL, so several servers can share one file safely)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ferkit.labels import EMOTIONS

SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    player TEXT NOT NULL,
    total INTEGER NOT NULL,
    rounds INTEGER NOT NULL,
    played_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
    game_id INTEGER NOT NULL REFERENCES games(id) ON DELETE CASCADE,
    round INTEGER NOT NULL,
    target TEXT NOT NULL,
    score INTEGER NOT NULL,
    PRIMARY KEY (game_id, round)
);
CREATE INDEX IF NOT EXISTS games_by_total ON games(total DESC, played_at);
CREATE INDEX IF NOT EXISTS rounds_by_target ON rounds(target, score DESC);
"""


@dataclass(frozen=True)
class RoundRecord:
    target: str
    score: int


def default_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("ferkit")) / "best-actor.sqlite3"


class Leaderboard:
    """One connection per call, so the object is safe to share between threads and processes."""

    def __init__(self, path: str | Path | None = None, *, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.busy_timeout_s = busy_timeout_s
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; persists in the file
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection per call, always closed (autocommit; transactions are explicit)."""
        try:
            db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        except sqlite3.Error as e:
            raise RuntimeError(f"{self.path}: cannot open the leaderboard database ({e})") from None
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.row_factory = sqlite3.Row
            yield db
        finally:
            db.close()

    def record_game(self, player: str, rounds: Sequence[RoundRecord], total: int) -> int:
        """Write a finished game and its rounds in one transaction; returns the game's id."""
        with self._connect() as db:
            try:
                db.execute("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlock under load
                game_id = db.execute(
                    "INSERT INTO games (player, total, rounds, played_at) VALUES (?, ?, ?, ?)",
                    (player, int(total), len(rounds), time.time()),
                ).lastrowid
                db.executemany(
                    "INSERT INTO rounds (game_id, round, target, score) VALUES (?, ?, ?, ?)",
                    [(game_id, i, r.target, int(r.score)) for i, r in enumerate(rounds)],
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return int(game_id)

    def top_games(self, limit: int = 10) -> list[dict]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, player, total, rounds, played_at FROM games ORDER BY total DESC, played_at LIMIT ?",
                (limit,),
            ).fetchall()
        return [dict(row) for row in rows]

    def top_rounds(self, target: str, limit: int = 10) -> list[dict]:
        if target not in EMOTIONS:
            raise ValueError(f"unknown expression {target!r}; expected one of {', '.join(EMOTIONS)}")
        with self._connect() as db:
            rows = db.execute(
                "SELECT g.id AS game_id, g.player, r.score, g.played_at FROM rounds r JOIN games g ON g.id = r.game_id"
                " WHERE r.target = ? ORDER BY r.score DESC, g.played_at LIMIT ?",
                (target, limit),
            ).fetchall()
        return [dict(row) for row in rows]

    def rank_of(self, game_id: int) -> int:
        """1-based place of a game among all games (ties share the better place)."""
        with self._connect() as db:
            (rank,) = db.execute(
                "SELECT 1 + COUNT(*) FROM games WHERE total > (SELECT total FROM games WHERE id = ?)", (game_id,)
            ).fetchone()
        return int(rank)

    def count_games(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM games").fetchone()[0])

    def snapshot(self, limit: int = 10) -> dict:
        """Top games overall and top rounds per expression, as the page shows them."""
        return {"games": self.top_games(limit), "by_expression": {t: self.top_rounds(t, limit) for t in EMOTIONS}}
