"""int8 exports (ONNX with onnxruntime, TFLite with ai-edge-quantizer), calibrated on TRAINING faces and
compared with their fp32 originals on the test splits; the accuracy policy is judged on PublicTest.

Speed is measured by `benchmarks/latency.py`, not here: an export should not time itself.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferkit.errors import BadInput, DatasetUnsuitable, ModelError, UnknownName
from ferkit.labels import REPORT_SPLIT, SELECT_SPLIT, TRAIN_SPLIT

MAX_INT8_DROP = 0.01  # int8 may cost at most one point of PublicTest accuracy


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
    # keep class names, provenance, rule and judge once each (newer onnxruntime quantizers copy them already)
    ours = {entry.key for entry in source.metadata_props} | {"quantization"}
    for prop in [prop for prop in quantized.metadata_props if prop.key in ours]:
        quantized.metadata_props.remove(prop)
    for entry in source.metadata_props:
        quantized.metadata_props.add().CopyFrom(entry)
    quantized.metadata_props.add().CopyFrom(onnx.StringStringEntryProto(key="quantization", value="int8 static QDQ"))
    onnx.save(quantized, str(out))
    return out


@dataclass(frozen=True)
class Int8Comparison:
    path: Path
    size_bytes: int
    fp32_size_bytes: int
    calibration_faces: int
    rows: dict[str, dict[str, float | None]]  # "fp32" / "int8" -> {"PublicTest": accuracy, "PrivateTest": ...}

    def accuracy_drop(self, split: str) -> float | None:
        fp32, int8 = self.rows["fp32"].get(split), self.rows["int8"].get(split)
        return None if fp32 is None or int8 is None else fp32 - int8

    def refuse_if_worse(self, max_drop: float = MAX_INT8_DROP) -> None:
        """A ModelError when int8 loses more than `max_drop` of PublicTest accuracy (the selection split)."""
        drop = self.accuracy_drop(SELECT_SPLIT)
        if drop is not None and drop > max_drop:
            raise ModelError(
                f"{self.path}: int8 loses {drop:.2%} of {SELECT_SPLIT} accuracy (more than {max_drop:.0%}); "
                "ship the fp32 export instead"
            )


def calibration_faces(faces, count: int = 512, seed: int = 0) -> np.ndarray:
    """A fixed random draw of Training faces: int8 ranges never see a test split."""
    training = faces.split(TRAIN_SPLIT)
    if len(training.labels) == 0:
        raise DatasetUnsuitable(f"{faces.source}: no Training faces to calibrate int8 on")
    pick = np.random.default_rng(seed).choice(len(training.labels), min(count, len(training.labels)), replace=False)
    return np.asarray(training.faces)[np.sort(pick)]


def is_onnx_source(source: str | Path) -> bool:
    """Whether an export's source is an fp32 ONNX model (a file, or a shipped model's name), not a checkpoint."""
    from ferkit.weights import SHIPPED_MODELS

    return str(source) in SHIPPED_MODELS or Path(source).suffix == ".onnx"


def _scored_split(faces, split: str, class_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray] | None:
    """(faces, labels) of a split in the model's own label space (FER+'s majority vote for a FER+ model), or None
    where the data has no such split or no labels to score against."""
    from ferkit.data.label_space import split_with_labels

    try:
        images, labels = split_with_labels(faces, split, class_names)
    except DatasetUnsuitable:
        return None
    return (images, labels) if len(labels) else None


def export_int8(checkpoint: str | Path, out: str | Path, faces, fmt: str) -> Int8Comparison:
    """Export fp32 and int8 in `fmt` ("onnx" or "tflite") and compare them on the data's test splits.

    For ONNX the source may also be an fp32 ONNX model (a shipped model's name, or a file): it is quantized
    as it is, metadata (classes, rule, judge) included, so a shipped model whose checkpoint is gone still can be.
    """
    from ferkit.export.onnx_export import export_onnx
    from ferkit.export.tflite_export import export_tflite, quantize_tflite, tflite_probabilities
    from ferkit.weights import resolve_model
    from ferkit.weights.onnx_classifier import OnnxClassifier

    out = Path(out)
    calibration = calibration_faces(faces)
    if is_onnx_source(checkpoint) and fmt != "onnx":
        raise BadInput(f"{checkpoint}: an ONNX model can be quantized to ONNX only; {fmt} needs a checkpoint (.pt)")
    with tempfile.TemporaryDirectory() as tmp:
        if fmt == "onnx":
            if is_onnx_source(checkpoint):
                fp32 = resolve_model(checkpoint)
                if out.resolve() == fp32.resolve():  # the comparison needs the fp32 file as it was
                    raise BadInput(f"{out}: write the int8 model to another file than its fp32 source")
            else:
                fp32 = export_onnx(checkpoint, Path(tmp) / "fp32.onnx").path
            quantize_onnx(fp32, out, calibration)

            def probabilities(path, x):
                return OnnxClassifier(path, rule="as-trained").predict_proba(x)  # as model cards score

        elif fmt == "tflite":
            fp32 = export_tflite(checkpoint, Path(tmp) / "fp32.tflite").path
            quantize_tflite(fp32, out, calibration)
            probabilities = tflite_probabilities
        else:
            raise UnknownName(f"int8 export is implemented for onnx and tflite, not {fmt}")
        if fmt == "onnx":
            class_names = OnnxClassifier(fp32).class_names
        else:
            from ferkit.models.checkpoint import load_checkpoint

            class_names = tuple(load_checkpoint(checkpoint)["class_names"])
        rows = {}
        for name, path in (("fp32", fp32), ("int8", out)):
            row: dict[str, float | None] = {}
            for split in (SELECT_SPLIT, REPORT_SPLIT):
                scored = _scored_split(faces, split, class_names)
                if scored is None:
                    row[split] = None
                    continue
                images, labels = scored
                row[split] = float((probabilities(path, images).argmax(1) == labels).mean())
            rows[name] = row
        fp32_size = Path(fp32).stat().st_size
    return Int8Comparison(out, out.stat().st_size, fp32_size, len(calibration), rows)
