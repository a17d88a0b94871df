"""The export formats by name (`EXPORTERS`): each writes a checkpoint as a file for another runtime and checks it.

A new format is one module with an `export_<format>(checkpoint, out, ...)` function plus one registration
here. `int8` says how the format does int8: "calibrated" (full int8, ranges from Training faces: the CLI
then needs --data and compares int8 with fp32 via `export.int8`), "weights" (int8 weights, float compute),
or "" (none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ferkit.registry import Registry

if TYPE_CHECKING:  # importing export.common imports torch; choosing a format must not
    from ferkit.export.common import ExportReport


@dataclass(frozen=True)
class Exporter:
    write: Callable[[Path, Path, bool], ExportReport]  # (checkpoint, out, int8 weights) -> checked report
    int8: str  # "calibrated", "weights" or ""
    suffix: str  # what the output's name ends with


EXPORTERS: Registry[Exporter] = Registry("export format")


def _onnx(checkpoint: Path, out: Path, int8: bool) -> ExportReport:
    from ferkit.export.onnx_export import export_onnx

    return export_onnx(checkpoint, out)


def _tflite(checkpoint: Path, out: Path, int8: bool) -> ExportReport:
    from ferkit.export.tflite_export import export_tflite

    return export_tflite(checkpoint, out)


def _coreml(checkpoint: Path, out: Path, int8: bool) -> ExportReport:
    from ferkit.export.coreml_export import export_coreml

    return export_coreml(checkpoint, out, int8=int8)


def _keras(checkpoint: Path, out: Path, int8: bool) -> ExportReport:
    from ferkit.export.keras_export import export_keras

    return export_keras(checkpoint, out)


EXPORTERS.add("onnx", "ONNX for onnxruntime (Python, browser, mobile); parity with torch to 1e-4",
              Exporter(_onnx, "calibrated", ".onnx"))  # fmt: skip
EXPORTERS.add("tflite", "TFLite / LiteRT for Android and microcontrollers; parity in LiteRT's interpreter",
              Exporter(_tflite, "calibrated", ".tflite"))  # fmt: skip
EXPORTERS.add("coreml", "Core ML ML program for iOS and macOS (inspected on Linux, where it cannot run)",
              Exporter(_coreml, "weights", ".mlpackage"))  # fmt: skip
EXPORTERS.add("keras", "Keras 3 (.keras, or legacy .h5), rebuilt layer by layer; parity checked in Keras (JAX)",
              Exporter(_keras, "", ".keras"))  # fmt: skip
