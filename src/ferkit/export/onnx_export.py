"""Export a checkpoint to ONNX and prove the export: probabilities match torch to 1e-4 on 256 faces."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from ferkit.export.common import ExportReport, checked_report, float_model, model_metadata, random_faces
from ferkit.face_size import FACE_SHAPE

INPUT_NAME, OUTPUT_NAME = "faces", "logits"


def write_onnx(net: torch.nn.Module, out: Path, metadata: dict[str, object]) -> None:
    """Trace `net` to ONNX (dynamic batch, opset 17) and attach `metadata` (strings kept, the rest JSON)."""
    import onnx

    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its own deprecation
        torch.onnx.export(
            net,
            (torch.zeros(1, *FACE_SHAPE),),
            str(out),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    proto = onnx.load(str(out))
    metadata = metadata | {"input": "N×1×48×48 float32 gray pixels 0-255 (the model normalises)"}
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))


def export_onnx(
    checkpoint: str | Path, out: str | Path, *, check_faces: np.ndarray | None = None, tolerance: float = 1e-4
) -> ExportReport:
    """Write an ONNX model (input N×1×48×48 float32 raw pixels, output logits) with ferkit metadata."""
    state, model = float_model(checkpoint)
    out = Path(out)
    write_onnx(model, out, model_metadata(state))
    faces = check_faces if check_faces is not None else random_faces(256)
    from ferkit.weights.onnx_classifier import OnnxClassifier

    return checked_report(out, OnnxClassifier(out).predict_proba(faces), model, faces, tolerance, "ONNX")
