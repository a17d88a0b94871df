"""Run a ferkit ONNX export with onnxruntime (no torch): face crops in, class probabilities out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


class OnnxClassifier:
    """One onnxruntime session (safe to share between threads); class names from the export's metadata."""

    def __init__(self, path: str | Path, *, batch_size: int = 512) -> None:
        try:
            self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as e:
            raise ValueError(f"{path}: not a loadable ONNX model: {e}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "class_names" not in meta:
            raise ValueError(f"{path}: ONNX model lacks the 'class_names' metadata that ferkit export writes")
        self.path = Path(path)
        self.class_names: tuple[str, ...] = tuple(json.loads(meta["class_names"]))
        self.input_name = self.session.get_inputs()[0].name
        self.batch_size = batch_size

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        """N×48×48 uint8 faces -> N×C probabilities, in batches."""
        out = [
            softmax(
                self.session.run(None, {self.input_name: faces[i : i + self.batch_size, None].astype(np.float32)})[0]
            )
            for i in range(0, len(faces), self.batch_size)
        ]
        return np.concatenate(out) if out else np.empty((0, len(self.class_names)), np.float32)
