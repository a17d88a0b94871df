"""int8 ONNX: static quantization with onnxruntime, calibrated on TRAINING faces, measured against fp32."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Int8Report:
    path: Path
    size_bytes: int
    fp32_size_bytes: int
    calibration_faces: int


class _FaceReader:
    """onnxruntime's calibration data reader over uint8 faces, in equal batches (its histograms need that)."""

    def __init__(self, input_name: str, faces: np.ndarray, batch: int = 32) -> None:
        batch = min(batch, len(faces))
        starts = range(0, len(faces) - len(faces) % batch, batch)
        self.batches = iter([{input_name: faces[i : i + batch, None].astype(np.float32)} for i in starts])

    def get_next(self):
        return next(self.batches, None)


def quantize_onnx(fp32_path: str | Path, out: str | Path, calibration_faces: np.ndarray) -> Int8Report:
    """QDQ int8 (per-channel int8 weights, uint8 activations): conv and matmul run as integer kernels."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    fp32_path, out = Path(fp32_path), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    source = onnx.load(str(fp32_path))
    input_name = source.graph.input[0].name
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(out),
            _FaceReader(input_name, calibration_faces),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.Percentile,  # clips the rare extreme activations minmax would keep
            extra_options={"CalibPercentile": 99.99},
        )
    quantized = onnx.load(str(out))
    for entry in source.metadata_props:  # keep class names and provenance
        quantized.metadata_props.add().CopyFrom(entry)
    quantized.metadata_props.add().CopyFrom(onnx.StringStringEntryProto(key="quantization", value="int8 static QDQ"))
    onnx.save(quantized, str(out))
    return Int8Report(out, out.stat().st_size, fp32_path.stat().st_size, len(calibration_faces))


def latency_ms(onnx_path: str | Path, batch: int, repeats: int = 50) -> float:
    """Median milliseconds per call of one onnxruntime session at this batch size."""
    from ferkit.weights.onnx_classifier import OnnxClassifier

    classifier = OnnxClassifier(onnx_path)
    faces = np.random.default_rng(0).integers(0, 256, (batch, 48, 48), dtype=np.uint8)
    classifier.predict_proba(faces)  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        classifier.predict_proba(faces)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)
