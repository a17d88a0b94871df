"""A registry of networks by name: `create_model(name)`, `list_models()`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ferkit.labels import NUM_CLASSES


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable[..., nn.Module]
    description: str


_REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, description: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    def wrap(build: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelSpec(name, build, description)
        return build

    return wrap


def list_models() -> list[ModelSpec]:
    return list(_REGISTRY.values())


def create_model(name: str, num_classes: int = NUM_CLASSES, **kwargs) -> nn.Module:
    """Build a registered network; an unknown name lists the valid ones."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; choose one of: {', '.join(_REGISTRY)}")
    model = _REGISTRY[name].build(num_classes=num_classes, **kwargs)
    model.model_name = name  # type: ignore[assignment]
    return model
