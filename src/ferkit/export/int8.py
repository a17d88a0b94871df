"""int8 exports (ONNX with onnxruntime, TFLite with ai-edge-quantizer), calibrated on TRAINING faces and
measured against their fp32 originals: accuracy on the test splits, size, latency."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class _FaceReader:
    """onnxruntime's calibration data reader over uint8 faces, in equal batches (its histograms need that)."""

    def __init__(self, input_name: str, faces: np.ndarray, batch: int = 32) -> None:
        batch = min(batch, len(faces))
        starts = range(0, len(faces) - len(faces) % batch, batch)
        self.batches = iter([{input_name: faces[i : i + batch, None].astype(np.float32)} for i in starts])

    def get_next(self):
        return next(self.batches, None)


def quantize_onnx(fp32_path: str | Path, out: str | Path, calibration_faces: np.ndarray) -> Path:
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
    return out


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


@dataclass(frozen=True)
class Int8Comparison:
    path: Path
    size_bytes: int
    fp32_size_bytes: int
    calibration_faces: int
    # "fp32" / "int8" -> {"PublicTest": accuracy, "PrivateTest": accuracy, "ms/face batch 1": ..., ...}
    rows: dict[str, dict[str, float | None]]

    def accuracy_drop(self, split: str) -> float | None:
        fp32, int8 = self.rows["fp32"].get(split), self.rows["int8"].get(split)
        return None if fp32 is None or int8 is None else fp32 - int8


def calibration_faces(faces, count: int = 512, seed: int = 0) -> np.ndarray:
    """A fixed random draw of Training faces: int8 ranges never see a test split."""
    training = faces.split("Training")
    if len(training.labels) == 0:
        raise ValueError(f"{faces.source}: no Training faces to calibrate int8 on")
    pick = np.random.default_rng(seed).choice(len(training.labels), min(count, len(training.labels)), replace=False)
    return np.asarray(training.faces)[np.sort(pick)]


def export_int8(checkpoint: str | Path, out: str | Path, faces, fmt: str) -> Int8Comparison:
    """Export fp32 and int8 in `fmt` ("onnx" or "tflite") and compare them on the data's test splits."""
    from ferkit.export.onnx_export import export_onnx
    from ferkit.export.tflite_export import export_tflite, quantize_tflite, tflite_probabilities
    from ferkit.weights.onnx_classifier import OnnxClassifier

    out = Path(out)
    calibration = calibration_faces(faces)
    with tempfile.TemporaryDirectory() as tmp:
        if fmt == "onnx":
            fp32 = export_onnx(checkpoint, Path(tmp) / "fp32.onnx").path
            quantize_onnx(fp32, out, calibration)

            def probabilities(path, x):
                return OnnxClassifier(path).predict_proba(x)

        elif fmt == "tflite":
            fp32 = export_tflite(checkpoint, Path(tmp) / "fp32.tflite").path
            quantize_tflite(fp32, out, calibration)
            probabilities = tflite_probabilities
        else:
            raise ValueError(f"int8 export is implemented for onnx and tflite, not {fmt}")
        rows = {}
        for name, path in (("fp32", fp32), ("int8", out)):
            row: dict[str, float | None] = {}
            for split in ("PublicTest", "PrivateTest"):
                part = faces.split(split)
                labelled = len(part.labels) > 0 and bool((part.labels >= 0).all())
                predicted = probabilities(path, np.asarray(part.faces)).argmax(1) if labelled else None
                row[split] = float((predicted == part.labels).mean()) if labelled else None
            if fmt == "onnx":
                row["ms/face, batch 1"] = latency_ms(path, 1)
                row["faces/s, batch 64"] = 64_000 / latency_ms(path, 64, 20)
            else:
                sample = np.asarray(faces.faces[:200])
                start = time.perf_counter()
                probabilities(path, sample)
                row["ms/face, batch 1"] = (time.perf_counter() - start) * 1000 / len(sample)
            rows[name] = row
        fp32_size = Path(fp32).stat().st_size
    return Int8Comparison(out, out.stat().st_size, fp32_size, len(calibration), rows)
