"""Every export format passes its check: ONNX and TFLite vs torch, int8 ONNX vs fp32, Core ML inspected."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import onnx
import pytest
from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.export.formats import EXPORTERS
from ferkit.train import train
from ferkit.weights.onnx_classifier import OnnxClassifier
from tests.conftest import write_fer2013_csv
from tests.train.conftest import tiny_faces, tiny_run_config

runner = CliRunner()
needs = {
    name: pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"{module} not installed (.[export])")
    for name, module in (("tflite", "litert_torch"), ("coreml", "coremltools"))
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("exportrun")
    csv_path = write_fer2013_csv(root / "fer2013.csv", tiny_faces(n_select=48, n_report=48))
    train(tiny_run_config(csv_path, root / "run", epochs=3, lr=0.02, augment="none", amp="off"))
    return csv_path, root / "run" / "best.pt"


@pytest.fixture(scope="module")
def tflite_export(run, tmp_path_factory):
    """The registered TFLite exporter's file and report, made once (a conversion costs ~12 s of CI)."""
    if importlib.util.find_spec("litert_torch") is None:
        pytest.skip("litert_torch not installed (.[export])")
    _, checkpoint = run
    return EXPORTERS.get("tflite").write(checkpoint, tmp_path_factory.mktemp("tflite") / "model.tflite", False)


def test_int8_onnx_is_calibrated_checked_and_keeps_class_names(run, tmp_path):
    csv_path, checkpoint = run
    out = tmp_path / "model.int8.onnx"
    result = runner.invoke(app, ["export", str(checkpoint), "--int8", "--data", str(csv_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "calibrated on 96 Training faces" in result.stdout and "PublicTest" in result.stdout
    assert "faces/s" not in result.stdout  # an export does not time itself (benchmarks/latency.py does)
    int8 = OnnxClassifier(out)
    assert int8.class_names[3] == "happy"
    keys = [prop.key for prop in onnx.load(str(out)).metadata_props]
    assert len(keys) == len(set(keys)) and "quantization" in keys, keys  # each entry once
    fp32_out = tmp_path / "model.onnx"
    assert runner.invoke(app, ["export", str(checkpoint), "--out", str(fp32_out)]).exit_code == 0
    assert out.stat().st_size < fp32_out.stat().st_size / 3
    faces = tiny_faces(n_select=48, n_report=48).split("PrivateTest")
    agree = int8.predict_proba(faces.faces).argmax(1) == OnnxClassifier(fp32_out).predict_proba(faces.faces).argmax(1)
    assert agree.mean() >= 0.95


def test_an_fp32_onnx_model_is_quantized_as_it_is_with_its_metadata_and_card(run, tmp_path):
    """A shipped model's checkpoint may be gone: its ONNX file is quantized directly (`default-int8` is made so)."""
    csv_path, checkpoint = run
    fp32 = tmp_path / "model.onnx"
    assert runner.invoke(app, ["export", str(checkpoint), "--out", str(fp32), "--card", str(csv_path)]).exit_code == 0
    out = tmp_path / "model-int8.onnx"
    args = ["export", str(fp32), "--int8", "--data", str(csv_path), "--out", str(out), "--card", str(csv_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "calibrated on 96 Training faces" in result.stdout
    assert OnnxClassifier(out).class_names == OnnxClassifier(fp32).class_names
    card = json.loads((tmp_path / "model-int8.card.json").read_text())
    fp32_card = json.loads((tmp_path / "model.card.json").read_text())
    assert card["quantized_from"]["file"] == "model.onnx" and card["quantized_from"]["results"] == fp32_card["results"]
    assert set(card["results"]) == set(fp32_card["results"]) and card["recipe"] == fp32_card["recipe"]
    assert card["command"] and "int8" in card["quantization"]  # (the command is sys.argv: pytest's here)
    result = runner.invoke(app, ["export", str(fp32), "--int8", "--data", str(csv_path), "--out", str(fp32)])
    assert result.exit_code == 2 and "another file than its fp32 source" in result.stderr
    # an ONNX source has no other export: the mistake is named
    result = runner.invoke(app, ["export", str(fp32), "--format", "tflite", "--out", str(tmp_path / "m.tflite")])
    assert result.exit_code == 2 and "an ONNX model can only be quantized" in result.stderr


def test_int8_and_format_mistakes_are_explained(run, tmp_path):
    _, checkpoint = run
    result = runner.invoke(app, ["export", str(checkpoint), "--int8", "--out", str(tmp_path / "m.onnx")])
    assert result.exit_code == 2 and "--int8 for onnx needs --data" in result.stderr
    result = runner.invoke(app, ["export", str(checkpoint), "--format", "mlir", "--out", str(tmp_path / "m")])
    assert (
        result.exit_code == 2 and "unknown export format 'mlir'; choose one of: onnx, tflite, coreml" in result.stderr
    )


def test_int8_that_costs_more_than_a_point_on_publictest_is_refused(tmp_path):
    from ferkit.errors import ModelError
    from ferkit.export.int8 import Int8Comparison

    rows = {"fp32": {"PublicTest": 0.70, "PrivateTest": 0.71}, "int8": {"PublicTest": 0.685, "PrivateTest": 0.71}}
    with pytest.raises(ModelError, match=r"int8 loses 1\.50% of PublicTest accuracy"):
        Int8Comparison(tmp_path / "m.onnx", 1, 4, 512, rows).refuse_if_worse()
    rows["int8"]["PublicTest"] = 0.695
    Int8Comparison(tmp_path / "m.onnx", 1, 4, 512, rows).refuse_if_worse()


@pytest.mark.parametrize("name", EXPORTERS.names())
def test_every_registered_format_writes_a_checked_export(run, tmp_path, name, request):
    exporter = EXPORTERS.get(name)
    module = {"tflite": "litert_torch", "coreml": "coremltools"}.get(name)
    if module and importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} not installed (.[export])")
    _, checkpoint = run
    if name == "tflite":  # written once for every TFLite test
        report = request.getfixturevalue("tflite_export")
    else:
        report = exporter.write(checkpoint, tmp_path / f"model{exporter.suffix}", False)
    assert report.path.exists() and report.size_bytes > 0
    assert report.max_prob_difference is None or report.max_prob_difference <= 1e-4


@needs["tflite"]
def test_tflite_matches_torch_in_the_litert_interpreter(tflite_export):
    from ferkit.export.tflite_export import tflite_probabilities

    report = tflite_export
    assert report.faces_checked == 256 and report.max_prob_difference <= 1e-4
    sidecar = json.loads(report.path.with_suffix(".json").read_text())
    assert sidecar["class_names"][5] == "surprise"
    probabilities = tflite_probabilities(report.path, tiny_faces().faces[:4])
    np.testing.assert_allclose(probabilities.sum(1), 1, atol=1e-5)  # softmax is part of the graph


@needs["tflite"]
def test_int8_tflite_is_full_integer_and_agrees_with_fp32(run, tflite_export, tmp_path):
    from ferkit.export.tflite_export import tflite_probabilities

    csv_path, checkpoint = run
    out = tmp_path / "model.int8.tflite"
    args = ["export", str(checkpoint), "--format", "tflite", "--int8", "--data", str(csv_path), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "LiteRT interpreter" in result.stdout and "calibrated on 96 Training faces" in result.stdout
    from ai_edge_litert.interpreter import Interpreter

    assert Interpreter(model_path=str(out)).get_input_details()[0]["dtype"] == np.int8
    fp32 = tflite_export.path
    faces = tiny_faces(n_select=48, n_report=48).split("PrivateTest").faces
    agree = tflite_probabilities(out, faces).argmax(1) == tflite_probabilities(fp32, faces).argmax(1)
    assert agree.mean() >= 0.9


@needs["coreml"]
def test_coreml_package_loads_and_has_the_right_interface(run, tmp_path):
    _, checkpoint = run
    result = runner.invoke(
        app, ["export", str(checkpoint), "--format", "coreml", "--out", str(tmp_path / "m.mlpackage")]
    )
    assert result.exit_code == 0, result.output
    assert "class labels ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']" in result.stdout
    assert "0 int8 weight tensors" in result.stdout
    result = runner.invoke(
        app, ["export", str(checkpoint), "--format", "coreml", "--int8", "--out", str(tmp_path / "q.mlpackage")]
    )
    assert result.exit_code == 0 and "8 int8 weight tensors" in result.stdout
    result = runner.invoke(app, ["export", str(checkpoint), "--format", "coreml", "--out", str(tmp_path / "m.mlmodel")])
    assert result.exit_code == 2 and "*.mlpackage" in result.stderr
