"""The networks by name: `MODELS` (a Registry), `create_model(name)`, `list_models()`."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from ferkit.labels import NUM_CLASSES
from ferkit.registry import Entry, Registry

MODELS: Registry[Callable[..., nn.Module]] = Registry("model")


def register(name: str, description: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """`@register("fer-vgg-s", "...")` above a builder taking num_classes."""
    return MODELS.register(name, description)


def list_models() -> list[Entry[Callable[..., nn.Module]]]:
    return list(MODELS)


def create_model(name: str, num_classes: int = NUM_CLASSES, **kwargs) -> nn.Module:
    """Build a registered network; an unknown name lists the valid ones."""
    model = MODELS.get(name)(num_classes=num_classes, **kwargs)
    model.model_name = name  # type: ignore[assignment]
    return model
