"""The SQLite leaderboard: top games, top rounds per expression, one transaction per game, concurrent writers."""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3

import pytest

from ferkit.errors import UnknownName
from ferkit.game.leaderboard import Leaderboard, RoundRecord


def test_top_games_and_rounds(tmp_path):
    board = Leaderboard(tmp_path / "lb.sqlite3")
    board.record_game("ada", [RoundRecord("happy", 90), RoundRecord("sad", 40)], 130)
    hostile = "<img src=x onerror=alert(1)>"
    second = board.record_game(hostile, [RoundRecord("happy", 95)], 95)
    # ranked by points per round: 95 in one round beats 130 in two (65 a round)
    assert [(g["player"], g["per_round"]) for g in board.top_games()] == [(hostile, 95.0), ("ada", 65.0)]
    assert [(r["player"], r["score"]) for r in board.top_rounds("happy")] == [(hostile, 95), ("ada", 90)]
    assert board.top_rounds("fear") == []
    assert board.rank_of(second) == 1
    snapshot = board.snapshot(limit=1)
    assert len(snapshot["games"]) == 1 and snapshot["by_expression"]["sad"][0]["score"] == 40
    assert set(snapshot["by_expression"]) == {"happy", "sad"}  # the expressions played, any model's names
    board.record_game("fer+ player", [RoundRecord("contempt", 70)], 70)
    assert board.top_rounds("contempt")[0]["score"] == 70
    with pytest.raises(UnknownName, match="unknown expression 'joy'"):
        board.top_rounds("joy")


def test_games_are_ranked_only_among_those_of_the_same_judge(tmp_path):
    path = tmp_path / "lb.sqlite3"
    lenient = Leaderboard(path, judge="ferplus.onnx sha256:aaa")
    strict = Leaderboard(path, judge="default.onnx sha256:b")
    lenient.record_game("ada", [RoundRecord("happy", 95)], 95)
    first = strict.save_game("bob", [RoundRecord("happy", 60)], 60)
    assert first.rank == 1  # not behind a game another model judged
    assert [g["player"] for g in strict.top_games()] == ["bob"]
    assert [r["player"] for r in lenient.top_rounds("happy")] == ["ada"]
    assert strict.snapshot()["judge"] == "default.onnx sha256:b" and lenient.count_games() == 2


def test_a_database_from_before_judges_were_recorded_is_upgraded_and_keeps_its_games(tmp_path):
    path = tmp_path / "old.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(
            "CREATE TABLE games (id INTEGER PRIMARY KEY AUTOINCREMENT, player TEXT NOT NULL, total INTEGER NOT NULL,"
            " rounds INTEGER NOT NULL, played_at REAL NOT NULL);"
            "CREATE TABLE rounds (game_id INTEGER NOT NULL REFERENCES games(id) ON DELETE CASCADE, round INTEGER NOT"
            " NULL, target TEXT NOT NULL, score INTEGER NOT NULL, PRIMARY KEY (game_id, round));"
            "INSERT INTO games (player, total, rounds, played_at) VALUES ('old', 80, 1, 1.0);"
            "INSERT INTO rounds VALUES (1, 0, 'sad', 80);"
        )
    board = Leaderboard(path, judge="default.onnx sha256:b")
    board.record_game("new", [RoundRecord("sad", 50)], 50)
    assert [g["player"] for g in board.top_games()] == ["new"]  # an unknown judge's game is not ranked with these
    assert [g["player"] for g in Leaderboard(path).top_games()] == ["old"] and board.count_games() == 2


def test_database_is_in_wal_mode(tmp_path):
    Leaderboard(tmp_path / "lb.sqlite3")
    with sqlite3.connect(tmp_path / "lb.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_game_is_written_whole_or_not_at_all(tmp_path):
    board = Leaderboard(tmp_path / "lb.sqlite3")
    with pytest.raises(sqlite3.IntegrityError):
        board.record_game("bob", [RoundRecord("happy", 50), RoundRecord(None, 10)], 60)  # type: ignore[arg-type]
    assert board.count_games() == 0
    with sqlite3.connect(tmp_path / "lb.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM rounds").fetchone()[0] == 0


def _write_games(path: str, player: str, count: int) -> None:
    board = Leaderboard(path)  # each process opens the file as a separate server would
    for i in range(count):
        board.record_game(player, [RoundRecord("happy", i % 101), RoundRecord("fear", 50)], i)


def test_concurrent_writers_from_two_processes_do_not_corrupt_the_file(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    Leaderboard(path)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_games, args=(path, f"p{k}", 60)) for k in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    board = Leaderboard(path)
    assert board.count_games() == 180
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM rounds").fetchone()[0] == 360


def test_unwritable_location_is_named(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises((RuntimeError, OSError), match="file"):
        Leaderboard(tmp_path / "file" / "lb.sqlite3")


@contextlib.contextmanager
def locked(path):
    """Another process's long write transaction: every writer gets 'database is locked'."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


def test_a_game_that_cannot_be_written_is_kept_and_written_later(tmp_path):
    judge = "m.onnx sha256:1"
    board = Leaderboard(tmp_path / "lb.sqlite3", judge=judge, busy_timeout_s=0.05, retry_pauses_s=(0.01, 0.02))
    with locked(board.path):
        kept = board.save_game("Ada", [RoundRecord("happy", 80)], 80)
    assert not kept.saved and kept.rank is None
    assert board.pending_games()[0]["player"] == "Ada" and board.count_games() == 0
    assert board.pending_games()[0]["judge"] == judge  # written later under the judge that scored it
    # a fresh server process (another Leaderboard on the same file) writes it with its next game
    later = Leaderboard(tmp_path / "lb.sqlite3", judge=judge).save_game("Grace", [RoundRecord("sad", 50)], 50)
    assert later.saved and later.rank == 2
    assert board.count_games() == 2 and board.pending_games() == []
    assert [g["player"] for g in board.top_games()] == ["Ada", "Grace"]


def test_a_half_written_pending_line_is_skipped_not_fatal(tmp_path):
    board = Leaderboard(tmp_path / "lb.sqlite3")
    whole = '{"player": "Ada", "rounds": [{"target": "happy", "score": 9}], "total": 9, "played_at": 1}'
    board.pending_path.write_text(whole + '\n{"play')
    assert board.flush_pending() == 1 and board.count_games() == 1
