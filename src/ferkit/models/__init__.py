"""Networks for 48×48 faces and a registry by name (the notebooks' two nets and stronger ones)."""

from ferkit.models import resnet, seeds, vgg  # noqa: F401  (registers the models)
from ferkit.models.profile import count_parameters, multiply_adds
from ferkit.models.registry import create_model, list_models

__all__ = ["count_parameters", "create_model", "list_models", "multiply_adds"]
