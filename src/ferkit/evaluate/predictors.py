"""Predictors the evaluator can score: a training checkpoint (.pt, torch) or an exported ONNX file."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from ferkit.weights import resolve_model
from ferkit.weights.onnx_classifier import OnnxClassifier


class Predictor(Protocol):
    class_names: tuple[str, ...]
    description: str

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        """N×48×48 uint8 faces -> N×C probabilities."""


class CheckpointPredictor:
    """A ferkit training checkpoint, run with torch (EMA weights when the run kept them)."""

    def __init__(self, path: Path, *, batch_size: int = 512) -> None:
        import torch

        from ferkit.models.checkpoint import load_checkpoint, model_from_checkpoint

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


class OnnxPredictor(OnnxClassifier):
    """An exported model run with onnxruntime (no torch); class names come from its metadata."""

    @property
    def description(self) -> str:
        rule = ", balanced decision rule" if self.rule == "balanced" else ""
        return f"{self.path} (ONNX{rule})"


def load_predictor(model: str | Path, rule: str = "as-trained") -> Predictor:
    """A .pt checkpoint, a run directory (its best.pt), an .onnx file, or a shipped model's name.

    `rule`: "as-trained" (the plain softmax, how the published tables score) or "balanced" (the decision
    rule an ONNX model carries; weights/decision_rule.py). Checkpoints carry no rule.
    """
    path = resolve_model(model)
    if path.suffix.lower() == ".onnx":
        return OnnxPredictor(path, rule=rule)
    return CheckpointPredictor(path)
