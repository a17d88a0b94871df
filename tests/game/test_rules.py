"""Best Actor's rules: the target draw, held-frame scoring, bonuses and player names."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from ferkit.game.rules import RoundScorer, clean_player_name, draw_targets, game_total
from ferkit.labels import EMOTIONS


def test_no_expression_repeats_until_all_have_come_up():
    rng = random.Random(0)
    for rounds in (5, 7, 14, 20):
        targets = draw_targets(rounds, rng)
        assert len(targets) == rounds
        for start in range(0, rounds, 7):
            cycle = targets[start : start + 7]
            assert len(set(cycle)) == len(cycle)
        assert all(a != b for a, b in itertools.pairwise(targets))
    assert sorted(draw_targets(7, rng)) == sorted(EMOTIONS)


def test_disgust_comes_up_about_half_as_often_in_short_games():
    rng = random.Random(1)
    counts = Counter(t for _ in range(4000) for t in draw_targets(3, rng))
    others = [counts[name] for name in EMOTIONS if name != "disgust"]
    assert counts["disgust"] < 0.7 * min(others)


def test_bad_round_counts_are_refused():
    with pytest.raises(ValueError, match="rounds must be between 1 and 20"):
        draw_targets(0, random.Random())


def test_one_lucky_frame_does_not_win():
    scorer = RoundScorer("happy")
    for p in (0.1, 0.99, 0.1, 0.2, 0.1):
        scorer.add(p, p > 0.5)
    assert scorer.score == 10  # the best 3-frame run holds only 0.1
    assert not scorer.nailed


def test_a_held_pose_scores_and_is_nailed():
    scorer = RoundScorer("happy")
    new_best = [scorer.add(p, True) for p in (0.5, 0.8, 0.9, 0.85, 0.3)]
    assert new_best == [False, False, True, True, False]  # the thumbnail follows the best held run
    assert scorer.score == 80 and scorer.nailed
    assert game_total([80, 40], [True, False]) == 130


def test_hard_expressions_count_more_but_never_past_100():
    fear = RoundScorer("fear")
    for _ in range(3):
        fear.add(0.6, True)
    assert fear.score == 75
    disgust = RoundScorer("disgust")
    for _ in range(3):
        disgust.add(0.95, True)
    assert disgust.score == 100


def test_fewer_frames_than_the_hold_score_zero():
    scorer = RoundScorer("sad")
    scorer.add(0.9, True)
    assert scorer.score == 0 and not scorer.nailed


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Ada   Lovelace \n", "Ada Lovelace"),
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
        ("a\x00b\x1bc", "abc"),
        ("", "anonymous"),
        (None, "anonymous"),
        ("x" * 100, "x" * 32),
        ("émilie 😀", "émilie 😀"),
    ],
)
def test_player_names_are_trimmed_and_kept_as_text(raw, clean):
    assert clean_player_name(raw) == clean
