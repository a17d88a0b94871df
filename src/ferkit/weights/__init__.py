"""The shipped models: ONNX files trained by ferkit, each with its model card (data, splits, accuracy, command)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from ferkit.errors import ModelError

# Names a model argument may use instead of a path: the FER2013 model, the FER+ one (8 classes), and each quantized
# to int8 (a third of the classifier's time at batch 1 and a quarter of the download, within 0.03 points on the
# report split; their cards). ferplus-int8 carries its own decision rule and judge curves, refitted on its outputs.
SHIPPED_MODELS = {
    "default": "default.onnx",
    "default-int8": "default-int8.onnx",
    "ferplus": "ferplus.onnx",
    "ferplus-int8": "ferplus-int8.onnx",
}
INT8_FORMS = {"default": "default-int8", "ferplus": "ferplus-int8"}  # each shipped fp32 model's int8 form
DEFAULT_MODEL = SHIPPED_MODELS["default"]
DEFAULT_CARD = "default.card.json"


def shipped_model_path(name: str = "default") -> Path:
    """Path of a shipped ONNX model; a clear error when this install has none of that name."""
    path = Path(str(resources.files(__name__).joinpath(SHIPPED_MODELS[name])))
    if not path.is_file():
        raise ModelError(f"no shipped model at {path}: reinstall ferkit, or pass a model file")
    return path


def default_model_path() -> Path:
    """Path of the shipped FER2013 model."""
    return shipped_model_path("default")


def resolve_model(model: str | Path) -> Path:
    """The file a model argument names: a shipped model's name, a run directory (its best.pt), or a file."""
    if str(model) in SHIPPED_MODELS:
        return shipped_model_path(str(model))
    path = Path(model)
    if path.is_dir():
        path = path / "best.pt"
    if not path.is_file():
        from ferkit.weights.onnx_classifier import ModelFileError  # (onnxruntime loads only when needed)

        raise ModelFileError(
            f"{path}: no such model file (a .pt checkpoint, a run directory, an .onnx, or one of: "
            + ", ".join(SHIPPED_MODELS)
            + ")"
        )
    return path


def shipped_model_card(name: str = "default") -> dict:
    """The model card shipped beside a shipped model (<name>.card.json)."""
    return json.loads(shipped_model_path(name).with_suffix(".card.json").read_text())


def default_model_card() -> dict:
    return shipped_model_card("default")
