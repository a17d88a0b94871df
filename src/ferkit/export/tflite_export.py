"""Export a checkpoint to TFLite (LiteRT) with litert-torch, and check it in the LiteRT interpreter."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from ferkit.export.common import ExportReport, WithSoftmax, checked_report, float_model, model_metadata, random_faces
from ferkit.face_size import FACE_SHAPE


def export_tflite(
    checkpoint: str | Path, out: str | Path, *, check_faces: np.ndarray | None = None, tolerance: float = 1e-4
) -> ExportReport:
    """Write a .tflite (input 1×1×48×48 float32 raw pixels, output 1×7 probabilities) and a .json beside it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import litert_torch

    logging.getLogger("litert_torch").setLevel(logging.WARNING)
    state, model = float_model(checkpoint)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    litert_torch.convert(WithSoftmax(model).eval(), (torch.zeros(1, *FACE_SHAPE),)).export(str(out))
    sidecar = model_metadata(state) | {
        "input": "1×1×48×48 float32 gray pixels 0-255 (the model normalises)",
        "output": "1×C probabilities",
    }
    out.with_suffix(".json").write_text(json.dumps(sidecar, indent=2))
    faces = check_faces if check_faces is not None else random_faces(256)
    return checked_report(out, tflite_probabilities(out, faces), model, faces, tolerance, "TFLite")


def quantize_tflite(fp32_path: str | Path, out: str | Path, calibration_faces: np.ndarray) -> Path:
    """Full-integer int8 (int8 weights and activations, int8 input/output) with ai-edge-quantizer,
    its activation ranges calibrated on the given faces (use Training faces, never a test split)."""
    from ai_edge_quantizer import quantizer, recipe

    fp32_path, out = Path(fp32_path), Path(out)
    converter = quantizer.Quantizer(str(fp32_path))
    converter.load_quantization_recipe(recipe.static_wi8_ai8())
    signature = "serving_default"
    (input_name,) = _interpreter(fp32_path).get_signature_list()[signature]["inputs"]
    samples = [{input_name: face[None, None].astype(np.float32)} for face in calibration_faces]
    ranges = converter.calibrate({signature: samples})
    converter.quantize(ranges).export_model(str(out), overwrite=True)
    sidecar = fp32_path.with_suffix(".json")
    if sidecar.exists() and sidecar != out.with_suffix(".json"):
        meta = json.loads(sidecar.read_text())
        meta["quantization"] = "full int8 (ai-edge-quantizer static_wi8_ai8); input and output are int8"
        out.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    return out


def _interpreter(path: Path):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    return interpreter


def tflite_probabilities(path: Path, faces: np.ndarray) -> np.ndarray:
    """Run a batch-1 .tflite over faces one by one in LiteRT's interpreter (what a phone runs);
    int8 inputs and outputs are quantized and dequantized with the model's own scales."""
    interpreter = _interpreter(path)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    in_scale, in_zero = source["quantization"]
    out_scale, out_zero = target["quantization"]
    rows = []
    for face in faces:
        x = face[None, None].astype(np.float32)
        if source["dtype"] != np.float32:
            info = np.iinfo(source["dtype"])
            x = np.clip(np.round(x / in_scale + in_zero), info.min, info.max).astype(source["dtype"])
        interpreter.set_tensor(source["index"], x)
        interpreter.invoke()
        y = interpreter.get_tensor(target["index"])[0].astype(np.float32)
        rows.append((y - out_zero) * out_scale if target["dtype"] != np.float32 else y.copy())
    return np.stack(rows)
