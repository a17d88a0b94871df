"""Predictors the evaluator can score: a training checkpoint (.pt, torch) or an exported ONNX file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import numpy as np


class Predictor(Protocol):
    class_names: tuple[str, ...]
    description: str

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        """N×48×48 uint8 faces -> N×C probabilities."""


class CheckpointPredictor:
    """A ferkit training checkpoint, run with torch (EMA weights when the run kept them)."""

    def __init__(self, path: Path, *, batch_size: int = 512) -> None:
        import torch

        from ferkit.train.checkpoint import load_checkpoint, model_from_checkpoint

        state = load_checkpoint(path)
        self.model = model_from_checkpoint(state)
        self.class_names = tuple(state["class_names"])
        self.description = f"{path} ({state['model_name']}, epoch {state['epoch']})"
        self.batch_size = batch_size
        self._torch = torch

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        from ferkit.models.predict import predict_logits

        logits = predict_logits(self.model, np.ascontiguousarray(faces), batch_size=self.batch_size)
        return self._torch.softmax(logits, dim=1).numpy()


class OnnxPredictor:
    """An exported model run with onnxruntime (no torch); class names come from its metadata."""

    def __init__(self, path: Path, *, batch_size: int = 512) -> None:
        import onnxruntime as ort

        try:
            self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as e:
            raise ValueError(f"{path}: not a loadable ONNX model: {e}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "class_names" not in meta:
            raise ValueError(f"{path}: ONNX model lacks the 'class_names' metadata that ferkit export writes")
        self.class_names = tuple(json.loads(meta["class_names"]))
        self.input_name = self.session.get_inputs()[0].name
        self.description = f"{path} (ONNX)"
        self.batch_size = batch_size

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(faces), self.batch_size):
            x = faces[start : start + self.batch_size, None].astype(np.float32)
            logits = self.session.run(None, {self.input_name: x})[0]
            out.append(_softmax(logits))
        return np.concatenate(out) if out else np.empty((0, len(self.class_names)), np.float32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def load_predictor(model: str | Path) -> Predictor:
    """A .pt checkpoint, a run directory (its best.pt), an .onnx file, or 'default' (the shipped model)."""
    if str(model) == "default":
        from ferkit.weights import default_model_path

        try:
            return OnnxPredictor(default_model_path())
        except FileNotFoundError as e:
            raise ValueError(str(e)) from None
    path = Path(model)
    if path.is_dir():
        path = path / "best.pt"
    if not path.is_file():
        raise ValueError(f"{path}: no such model file (a .pt checkpoint or an .onnx export)")
    if path.suffix.lower() == ".onnx":
        return OnnxPredictor(path)
    return CheckpointPredictor(path)
