"""The shipped models at a glance: size and classes from each file, accuracy from its card, rule and judge."""

from __future__ import annotations

from dataclasses import dataclass

from ferkit.infer.judge import METADATA_KEY as JUDGE_KEY
from ferkit.labels import FERPLUS_EMOTIONS, REPORT_SPLIT, SELECT_SPLIT
from ferkit.weights import SHIPPED_MODELS, shipped_model_card, shipped_model_path
from ferkit.weights.onnx_classifier import OnnxClassifier


@dataclass(frozen=True)
class ShippedModel:
    """What a user picks between when passing `--model NAME`."""

    name: str
    class_names: tuple[str, ...]
    megabytes: float
    select_accuracy: float | None  # on the split checkpoints were chosen on (FER+ Valid for a FER+ model)
    report_accuracy: float | None  # on the split nothing was chosen on (FER+ Test for a FER+ model)
    rule_power: float | None  # the balanced decision rule's power, None: the model carries no rule
    has_judge: bool  # judge curves for Best Actor's round scores

    @property
    def ferplus(self) -> bool:
        return self.class_names == FERPLUS_EMOTIONS

    @property
    def split_names(self) -> tuple[str, str]:
        """What this model's select and report splits are called in its own dataset."""
        return ("FER+ Valid", "FER+ Test") if self.ferplus else (SELECT_SPLIT, REPORT_SPLIT)


def _accuracy(card: dict, split: str) -> float | None:
    result = card.get("results", {}).get(f"{split}/none")
    return None if result is None else float(result["accuracy"])


def shipped_models() -> list[ShippedModel]:
    """Every model this install ships, in SHIPPED_MODELS' order (each file is opened and checked once)."""
    rows = []
    for name in SHIPPED_MODELS:
        path = shipped_model_path(name)
        classifier = OnnxClassifier(path)
        card = shipped_model_card(name)
        rule = classifier.decision_rule
        rows.append(
            ShippedModel(
                name=name,
                class_names=classifier.class_names,
                megabytes=path.stat().st_size / 1e6,
                select_accuracy=_accuracy(card, SELECT_SPLIT),
                report_accuracy=_accuracy(card, REPORT_SPLIT),
                rule_power=None if rule is None else rule.power,
                has_judge=bool(classifier.metadata.get(JUDGE_KEY)),
            )
        )
    return rows
