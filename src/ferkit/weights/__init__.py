"""The shipped model: an ONNX file trained by ferkit, and its model card (data, splits, accuracy, command)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from ferkit.errors import ModelError

DEFAULT_MODEL = "default.onnx"
DEFAULT_CARD = "default.card.json"


def default_model_path() -> Path:
    """Path of the shipped ONNX model; a clear error when this install has none."""
    path = Path(str(resources.files(__name__).joinpath(DEFAULT_MODEL)))
    if not path.is_file():
        raise ModelError(f"no shipped model at {path}: reinstall ferkit, or pass a model file")
    return path


def default_model_card() -> dict:
    return json.loads(Path(str(resources.files(__name__).joinpath(DEFAULT_CARD))).read_text())
