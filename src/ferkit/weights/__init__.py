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


def resolve_model(model: str | Path) -> Path:
    """The file a model argument names: "default" (the shipped ONNX), a run directory (its best.pt), or a file."""
    if str(model) == "default":
        return default_model_path()
    path = Path(model)
    if path.is_dir():
        path = path / "best.pt"
    if not path.is_file():
        from ferkit.weights.onnx_classifier import ModelFileError  # (onnxruntime loads only when needed)

        raise ModelFileError(f"{path}: no such model file (a .pt checkpoint, a run directory, an .onnx, or default)")
    return path


def default_model_card() -> dict:
    return json.loads(Path(str(resources.files(__name__).joinpath(DEFAULT_CARD))).read_text())
