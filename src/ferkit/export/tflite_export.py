"""Export a checkpoint to TFLite (LiteRT) with litert-torch, and check it in the LiteRT interpreter."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from ferkit.export.onnx_export import ExportReport, random_faces, torch_probabilities
from ferkit.train.checkpoint import load_checkpoint, model_from_checkpoint


class _Probabilities(torch.nn.Module):
    """Mobile apps want probabilities, not logits: softmax is part of the exported graph."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(faces), dim=1)


def export_tflite(
    checkpoint: str | Path, out: str | Path, *, check_faces: np.ndarray | None = None, tolerance: float = 1e-4
) -> ExportReport:
    """Write a .tflite (input 1×1×48×48 float32 raw pixels, output 1×7 probabilities) and a .json beside it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import litert_torch

    logging.getLogger("litert_torch").setLevel(logging.WARNING)
    state = load_checkpoint(checkpoint)
    model = _Probabilities(model_from_checkpoint(state).float().eval()).eval()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    litert_torch.convert(model, (torch.zeros(1, 1, 48, 48),)).export(str(out))
    labels = out.with_suffix(".json")
    labels.write_text(
        json.dumps(
            {
                "class_names": state["class_names"],
                "model_name": state["model_name"],
                "input": "1×1×48×48 float32 gray pixels 0-255 (the model normalises)",
                "output": "1×C probabilities",
                "trained_epoch": state["epoch"],
            },
            indent=2,
        )
    )
    faces = check_faces if check_faces is not None else random_faces(256)
    got = tflite_probabilities(out, faces)
    difference = float(np.abs(got - torch_probabilities(model.model, faces)).max())
    if difference > tolerance:
        raise RuntimeError(f"{out}: TFLite probabilities differ from torch by {difference:.2e} (> {tolerance:g})")
    return ExportReport(out, difference, len(faces), out.stat().st_size)


def tflite_probabilities(path: Path, faces: np.ndarray) -> np.ndarray:
    """Run a batch-1 .tflite over faces one by one in LiteRT's interpreter (what a phone runs)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    source, target = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    rows = []
    for face in faces:
        interpreter.set_tensor(source, face[None, None].astype(np.float32))
        interpreter.invoke()
        rows.append(interpreter.get_tensor(target)[0].copy())
    return np.stack(rows)
