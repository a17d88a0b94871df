"""TrainConfig: every training setting with defaults that work, and named recipes on top of it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ferkit.errors import UnknownName


@dataclass(frozen=True)
class TrainConfig:
    """One training run. The CLI maps flags onto this; checkpoints store it."""

    data: str = ""
    model: str = "fer-vgg-s"
    init: str = ""  # start from a trained model's weights: default, a run directory, a .pt or a ferkit .onnx
    out: str = "runs/latest"
    labels: str = "fer2013"  # or "ferplus": 8 classes, trained on the vote distributions
    ferplus: str = ""  # fer2013new.csv, when labels == "ferplus"
    epochs: int = 30
    batch_size: int = 128
    optimizer: str = "sgd"  # sgd (Nesterov) | adamw | adam
    lr: float = 0.1
    weight_decay: float = 5e-4
    momentum: float = 0.9
    schedule: str = "onecycle"  # onecycle | cosine | plateau | none
    warmup_epochs: float = 1.0  # for cosine
    plateau_patience: int = 3
    plateau_factor: float = 0.5
    early_stop_patience: int = 0  # epochs without a better PublicTest accuracy; 0 = off
    label_smoothing: float = 0.0
    teacher: str = ""  # a teacher file (`ferkit teach`): its soft labels join the loss
    distill_weight: float = 0.5  # share of the loss that follows the teacher (when a teacher is given)
    distill_temperature: float = 1.0  # softens the teacher and the student alike (loss scaled by T²)
    augment: str = "light"  # a policy in train.augment.POLICIES
    balance: str = "none"  # none | oversample | sampler | weighted
    hold_out: str = ""  # "k/K": leave fold k of K of the Training faces out (a cross-fitted teacher's member)
    sam_rho: float = 0.0  # sharpness-aware minimisation's radius (e.g. 0.05); 0 = off. Two passes a batch
    ema_decay: float = 0.0  # e.g. 0.999; 0 = off. Selection and checkpoints then use the EMA weights.
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: str = "auto"  # auto (bf16 where the device does it natively) | bf16 | off
    channels_last: bool = True
    compile: bool = False
    eval_batch_size: int = 512
    max_minutes: float = 0.0  # stop after the epoch that crosses this wall-clock budget; 0 = no limit
    # what max_minutes does: stop (after the epoch that crosses it; resume later) or shorten (re-plan the
    # epochs at every epoch end so the schedule still anneals to its end within the budget)
    budget_policy: str = "stop"
    progress: bool = True
    tensorboard: bool = True

    def override(self, **changes: Any) -> TrainConfig:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise UnknownName(f"unknown training setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# Named recipes: settings that belong together. The CLI applies a recipe, then explicit flags.
RECIPES: dict[str, dict[str, Any]] = {
    # The Best Actor notebook: Adam 1e-3, LR on plateau, early stopping, its augmentation.
    "seed": dict(model="seed-vgg", optimizer="adam", lr=1e-3, weight_decay=0.0, schedule="plateau",
                 plateau_patience=3, early_stop_patience=8, augment="seed", epochs=60, batch_size=64),
    # About 80 minutes on a 2-core laptop CPU (bf16 where supported): small VGG, one-cycle SGD.
    "cpu": dict(model="fer-vgg-s", optimizer="sgd", lr=0.05, weight_decay=5e-4, schedule="onecycle",
                epochs=70, batch_size=128, augment="light", label_smoothing=0.1, ema_decay=0.999),
    # One GPU: ResNet-18 for 48×48, long cosine schedule, heavy augmentation.
    "gpu": dict(model="fer-resnet18", optimizer="sgd", lr=0.1, weight_decay=5e-4, schedule="cosine",
                epochs=120, batch_size=256, augment="strong", label_smoothing=0.1, ema_decay=0.999,
                warmup_epochs=3),
    # A few steps, for smoke tests of the whole loop.
    "smoke": dict(model="seed-lenet", epochs=1, batch_size=32, augment="light", progress=False, tensorboard=False),
}  # fmt: skip


def recipe_config(recipe: str | None, **overrides: Any) -> TrainConfig:
    """A recipe's config with explicit settings on top; an unknown recipe lists the valid ones."""
    base: dict[str, Any] = {}
    if recipe:
        if recipe not in RECIPES:
            raise UnknownName(f"unknown recipe {recipe!r}; choose one of: {', '.join(RECIPES)}")
        base = dict(RECIPES[recipe])
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig().override(**base)


def parse_settings(pairs: list[str]) -> dict[str, object]:
    """--set key=value pairs typed by the TrainConfig field they name."""
    types = {f.name: type(getattr(TrainConfig(), f.name)) for f in fields(TrainConfig)}
    settings: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in types:
            raise UnknownName(f"--set {pair!r}: expected KEY=VALUE with KEY one of: {', '.join(types)}")
        kind = types[key]
        if kind is bool:
            settings[key] = value.lower() in ("1", "true", "yes", "on")
        else:
            try:
                settings[key] = kind(value)
            except ValueError:
                raise UnknownName(f"--set {pair!r}: {key} takes a {kind.__name__}") from None
    return settings
