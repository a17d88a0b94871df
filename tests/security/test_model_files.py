"""User model files are checked at load: input shape, output width and class names, one clear line each."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from ferkit.game.app import create_app  # noqa: E402
from ferkit.game.settings import ServerSettings  # noqa: E402
from ferkit.labels import EMOTIONS  # noqa: E402
from ferkit.weights.onnx_classifier import ModelFileError, OnnxClassifier  # noqa: E402


def linear_model(path, *, channels=1, side=48, outputs=7, class_names: str | None = json.dumps(list(EMOTIONS))):
    """Flatten → MatMul: a model of any input and output shape, with whatever class_names metadata."""
    pixels = channels * side * side
    weight = numpy_helper.from_array(np.full((pixels, outputs), 1e-3, np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["faces"], ["flat"]), helper.make_node("MatMul", ["flat", "w"], ["logits"])],
        "tiny",
        [helper.make_tensor_value_info("faces", TensorProto.FLOAT, ["N", channels, side, side])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", outputs])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if class_names is not None:
        helper.set_model_props(model, {"class_names": class_names})
    onnx.save(model, str(path))
    return path


def test_a_well_formed_model_loads(tmp_path):
    classifier = OnnxClassifier(linear_model(tmp_path / "ok.onnx"))
    assert classifier.class_names == tuple(EMOTIONS)
    assert classifier.predict_proba(np.zeros((3, 48, 48), np.uint8)).shape == (3, 7)


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (dict(channels=3, side=64), "its input is N×3×64×64; a ferkit model takes N×1×48×48 faces"),
        (dict(outputs=3), "gives 3 scores per face but names 7 classes in its metadata (angry, disgust"),
        (dict(outputs=12), "gives 12 scores per face but names 7 classes"),
        (dict(class_names='["angry", "happy"'), "its 'class_names' metadata is not valid JSON"),
        (dict(class_names='{"a": 1}'), "must be a JSON list of at least 2 names"),
        (dict(class_names='["happy", "happy"]', outputs=2), "names a class twice"),
        (dict(class_names=None), "lacks the 'class_names' metadata"),
    ],
)
def test_a_model_that_cannot_serve_is_refused_at_load_with_its_name(tmp_path, settings, problem):
    path = linear_model(tmp_path / "user.onnx", **settings)
    with pytest.raises(ModelFileError) as refused:
        OnnxClassifier(path)
    assert str(refused.value).startswith(f"{path}: ") and problem in str(refused.value)


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x00garbage")
    with pytest.raises(ModelFileError, match=r"model\.onnx: not a loadable ONNX model \("):
        OnnxClassifier(path)
    with pytest.raises(ModelFileError, match=r"nothing\.onnx: no such model file"):
        OnnxClassifier(tmp_path / "nothing.onnx")


def test_the_server_refuses_a_wrong_shape_model_before_it_says_healthy(tmp_path):
    path = linear_model(tmp_path / "wrong.onnx", channels=3)
    with pytest.raises(ModelFileError, match="N×1×48×48"):
        create_app(ServerSettings(model=str(path), leaderboard_path=tmp_path / "lb.sqlite3"))


@pytest.mark.parametrize("command", ["predict", "serve", "play"])
def test_the_cli_names_a_bad_model_in_one_line(tmp_path, command):
    path = linear_model(tmp_path / "wrong.onnx", outputs=3)
    args = ["--model", str(path), "--leaderboard", str(tmp_path / "lb.sqlite3"), "--port", "1"]
    if command == "predict":
        args = [str(tmp_path / "photo.jpg"), "--model", str(path)]
    if command == "play":
        args.append("--no-browser")
    done = subprocess.run(
        [sys.executable, "-m", "ferkit.cli", command, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "gives 3 scores per face" in done.stderr
