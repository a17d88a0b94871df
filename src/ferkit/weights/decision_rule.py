"""The decision rule a model carries: its probabilities moved from its training mix of classes to an even one.

A classifier learns p(class | face) under the class mix of its training data: FER2013 is a quarter happy
and 1.5% disgust, FER+'s votes a third neutral. A player in Best Actor, or a person posing for a photo,
is no likelier to act neutral than disgust, and a model that keeps its training prior names the frequent
classes too often (the maintainers' posed faces: angry, disgust and fear almost never recognised). Bayes'
rule moves a posterior to another prior: p'(c | x) ∝ p(c | x) · prior'(c) / prior(c). With an even
prior' that is a division by the training prior, to a power fitted on PublicTest (`ferkit fit-rule`)
because a net trained with label smoothing and soft targets is not perfectly calibrated.

It is an offset on the logits, so it travels in the ONNX metadata and every runtime (onnxruntime here,
onnxruntime-web in the game's page) applies it the same way before the softmax.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from ferkit.errors import ModelError

METADATA_KEY = "decision_rule"
FORMAT = "ferkit-decision-v1"
# "balanced": the model's stored rule (every expression equally likely), as predict, serve and the game
# use it; "as-trained": the raw softmax, as the published FER2013 tables score a model.
RULES = ("balanced", "as-trained")


@dataclass(frozen=True)
class PriorShift:
    """Divide each class's probability by its training prior to `power` (0: no change, 1: Bayes' rule)."""

    priors: dict[str, float]
    power: float
    fitted_on: str = ""

    def logit_offsets(self, class_names: tuple[str, ...]) -> np.ndarray:
        """What to add to the model's logits, in `class_names` order."""
        if set(self.priors) != set(class_names):
            raise ModelError(
                f"the decision rule names the classes {sorted(self.priors)}, the model {sorted(class_names)}"
            )
        return np.array([-self.power * np.log(self.priors[name]) for name in class_names], dtype=np.float32)

    def to_json(self) -> str:
        fields = {"format": FORMAT, "rule": "balanced", "priors": self.priors, "power": self.power}
        return json.dumps({**fields, "fitted_on": self.fitted_on})

    @classmethod
    def from_json(cls, text: str) -> PriorShift:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}; expected {FORMAT}")
            priors = {str(k): float(v) for k, v in data["priors"].items()}
            power = float(data["power"])
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ModelError(f"its '{METADATA_KEY}' metadata is unreadable ({e})") from None
        if not all(0 < p <= 1 for p in priors.values()) or not 0 <= power <= 2:
            raise ModelError(f"its '{METADATA_KEY}' metadata holds priors outside (0, 1] or a power outside [0, 2]")
        return cls(priors, power, str(data.get("fitted_on", "")))


def shifted(probabilities: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Probabilities (N×C) with logit offsets applied: p · exp(offset), renormalised."""
    q = probabilities * np.exp(offsets - offsets.max())
    return q / q.sum(axis=1, keepdims=True)
