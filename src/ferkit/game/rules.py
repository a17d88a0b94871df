"""Best Actor's rules, pure: which expressions a game asks for, and how a round's frames become a score."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from ferkit.errors import BadInput
from ferkit.infer.judge import JudgeCalibration
from ferkit.labels import EMOTIONS

# Disgust is the rarest FER2013 class (1.5% of faces) and the model's weakest: it comes up half as
# often as the others within a cycle, and like fear it earns a difficulty multiplier.
# Keyed by name, so a FER+ model (whose disgust and fear share these names) gets the same treatment;
# any other class draws with weight 1 and difficulty 1.
DRAW_WEIGHTS: dict[str, float] = {name: 0.5 if name == "disgust" else 1.0 for name in EMOTIONS}
DIFFICULTY: dict[str, float] = {name: 1.25 if name in ("disgust", "fear") else 1.0 for name in EMOTIONS}
HOLD_FRAMES = 3  # a pose must be held this many consecutive frames: one lucky frame cannot win
NAILED_IT_BONUS = 10  # game points for a round whose target was the top label through the whole held run
MAX_ROUNDS = 20


def playable_expressions(class_names: Sequence[str], *, contempt_rounds: bool = False) -> tuple[str, ...]:
    """The loaded model's classes a round may ask for (a FER+ model's contempt only when asked for)."""
    return tuple(name for name in class_names if contempt_rounds or name != "contempt")


def draw_targets(rounds: int, rng: random.Random, expressions: Sequence[str] = EMOTIONS) -> list[str]:
    """Targets for a game among `expressions` (the model's classes): none repeats until every one has come up."""
    if not 1 <= rounds <= MAX_ROUNDS:
        raise BadInput(f"rounds must be between 1 and {MAX_ROUNDS}, not {rounds}")
    targets: list[str] = []
    bag: list[str] = []
    while len(targets) < rounds:
        if not bag:
            bag = list(expressions)
        # a refilled bag must not open with the expression that just closed the previous one
        choices = [name for name in bag if not targets or name != targets[-1]] or bag
        pick = rng.choices(choices, weights=[DRAW_WEIGHTS.get(name, 1.0) for name in choices])[0]
        bag.remove(pick)
        targets.append(pick)
    return targets


@dataclass
class RoundScorer:
    """Collects one round's frames (target probability, was it the top label) and scores the best held run."""

    target: str
    judge: JudgeCalibration | None = None  # the model's per-class curves; None: raw probability × difficulty
    hold: int = HOLD_FRAMES
    probabilities: list[float] = field(default_factory=list)
    on_top: list[bool] = field(default_factory=list)

    def add(self, target_probability: float, target_is_top: bool) -> bool:
        """Record a frame; True when it ends the best held run so far (its picture becomes the thumbnail)."""
        before = self.held_probability()
        self.probabilities.append(float(target_probability))
        self.on_top.append(bool(target_is_top))
        return len(self.probabilities) >= self.hold and self.held_probability() > before

    def _best_run(self) -> tuple[float, int]:
        best, end = 0.0, -1
        for i in range(self.hold - 1, len(self.probabilities)):
            held = min(self.probabilities[i - self.hold + 1 : i + 1])
            if held > best:
                best, end = held, i
        return best, end

    def held_probability(self) -> float:
        return self._best_run()[0]

    def score_of(self, probability: float) -> int:
        """0-100 for a target probability, through the model's judge curve for the target.

        A model without a judge: the probability ×100, times the expression's difficulty, capped at 100.
        """
        if self.judge is not None and self.target in self.judge.knots:
            return self.judge.acting_score(self.target, probability)
        return min(100, round(100 * probability * DIFFICULTY.get(self.target, 1.0)))

    @property
    def score(self) -> int:
        """The round's score: the best probability held for `hold` frames, as a 0-100 score."""
        return self.score_of(self.held_probability())

    @property
    def nailed(self) -> bool:
        _, end = self._best_run()
        return end >= 0 and all(self.on_top[end - self.hold + 1 : end + 1])


def game_total(scores: Sequence[int], nailed: Sequence[bool]) -> int:
    return int(sum(scores) + NAILED_IT_BONUS * sum(nailed))


MAX_NAME_LENGTH = 32


def clean_player_name(name: object) -> str:
    """Trimmed, single-spaced, control characters removed, at most 32 characters; stored and shown as text."""
    text = "".join(ch for ch in str(name or "") if ch.isprintable())
    text = " ".join(text.split())[:MAX_NAME_LENGTH].strip()
    return text or "anonymous"
