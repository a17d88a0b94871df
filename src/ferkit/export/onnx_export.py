"""Export a checkpoint to ONNX and prove the export: probabilities match torch to 1e-4 on 256 faces."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ferkit.train.checkpoint import load_checkpoint, model_from_checkpoint

INPUT_NAME, OUTPUT_NAME = "faces", "logits"


@dataclass(frozen=True)
class ExportReport:
    path: Path
    max_prob_difference: float | None  # None where no runtime exists on this OS (Core ML on Linux)
    faces_checked: int
    size_bytes: int
    details: tuple[str, ...] = ()  # what an inspection found, for formats checked by loading only


def export_onnx(
    checkpoint: str | Path, out: str | Path, *, check_faces: np.ndarray | None = None, tolerance: float = 1e-4
) -> ExportReport:
    """Write an ONNX model (input N×1×48×48 float32 raw pixels, output logits) with ferkit metadata."""
    import onnx

    state = load_checkpoint(checkpoint)
    model = model_from_checkpoint(state).float().eval()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, 1, 48, 48)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its own deprecation
        torch.onnx.export(
            model,
            (example,),
            str(out),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    proto = onnx.load(str(out))
    metadata = {
        "class_names": json.dumps(state["class_names"]),
        "model_name": state["model_name"],
        "input": "N×1×48×48 float32 gray pixels 0-255 (the model normalises)",
        "trained_epoch": str(state["epoch"]),
        "selected_on": state.get("selected_on", "PublicTest"),
        "code_version": state.get("code_version", ""),
    }
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))
    faces = check_faces if check_faces is not None else random_faces(256)
    difference = parity(model, out, faces)
    if difference > tolerance:
        raise RuntimeError(f"{out}: ONNX probabilities differ from torch by {difference:.2e} (> {tolerance:g})")
    return ExportReport(out, difference, len(faces), out.stat().st_size)


def random_faces(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, 48, 48), dtype=np.uint8)


def torch_probabilities(model: torch.nn.Module, faces: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(faces[:, None].astype(np.float32))), dim=1).numpy()


def parity(model: torch.nn.Module, onnx_path: Path, faces: np.ndarray) -> float:
    """Largest absolute difference between torch and onnxruntime probabilities."""
    from ferkit.weights.onnx_classifier import OnnxClassifier

    got = OnnxClassifier(onnx_path).predict_proba(faces)
    return float(np.abs(got - torch_probabilities(model, faces)).max())
