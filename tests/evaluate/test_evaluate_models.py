"""Evaluating checkpoints and ONNX exports end to end: same accuracy, reports drawn, clear errors."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.evaluate.report import write_report
from ferkit.evaluate.run import evaluate, unseen_accuracy
from ferkit.export.onnx_export import export_onnx

runner = CliRunner()


def test_checkpoint_and_onnx_give_the_same_accuracy(tiny_run, tmp_path):
    csv_path, run = tiny_run
    report = export_onnx(run / "best.pt", tmp_path / "model.onnx")
    assert report.max_prob_difference < 1e-4 and report.faces_checked == 256
    torch_eval = evaluate(run / "best.pt", csv_path, split="PrivateTest")
    onnx_eval = evaluate(tmp_path / "model.onnx", csv_path, split="PrivateTest")
    assert abs(torch_eval.metrics["accuracy"] - onnx_eval.metrics["accuracy"]) <= 0.001
    np.testing.assert_allclose(torch_eval.probs, onnx_eval.probs, atol=1e-4)


def test_report_files_and_figure_sizes(tiny_run, tmp_path):
    csv_path, run = tiny_run
    ev = evaluate(run / "best.pt", csv_path, split="PublicTest", tta="flip", calibrate=True)
    assert ev.metrics["temperature_fitted_on"] == "PublicTest"
    page = write_report(ev, tmp_path / "report")
    sizes = {"confusion_matrix.png": (1300, 560), "counts.png": (900, 400), "reliability.png": (500, 500)}
    for name, size in sizes.items():
        with Image.open(tmp_path / "report" / name) as im:
            assert im.size == size
            assert len(im.getcolors(1 << 24)) > 20
    assert (tmp_path / "report" / "predictions.png").stat().st_size > 10_000
    assert (tmp_path / "report" / "mistakes.png").exists()  # the tiny model may make no mistakes at all
    rows = (tmp_path / "report" / "predictions.csv").read_text().splitlines()
    assert rows[0].startswith("index,true,predicted,p_angry") and len(rows) == 1 + ev.metrics["n"]
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["accuracy"] == ev.metrics["accuracy"]
    assert "data:image/png;base64" in page.read_text()


def test_cli_json_last_line(tiny_run):
    csv_path, run = tiny_run
    result = runner.invoke(
        app, ["evaluate", "--model", str(run / "best.pt"), "--data", str(csv_path), "--split", "PrivateTest", "--json"]
    )
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"accuracy", "macro_f1", "n", "split", "per_class", "model"} <= set(last)
    assert last["split"] == "PrivateTest" and last["n"] == 48
    assert last["unseen"]["n"] + last["unseen"]["copies_in_training"] == 48


def test_unseen_accuracy_leaves_out_the_faces_training_holds():
    rng = np.random.default_rng(0)
    training = rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)
    faces = np.concatenate([training[:2], rng.integers(0, 256, (3, 48, 48), dtype=np.uint8)])
    labels = np.array([0, 1, 2, 3, 4])
    probs = np.eye(7)[[0, 1, 2, 0, 0]]  # right on both copies and one of the three unseen faces
    unseen = unseen_accuracy(faces, labels, probs, training)
    assert unseen["n"] == 3 and unseen["copies_in_training"] == 2
    assert unseen["accuracy"] == pytest.approx(1 / 3)


def test_compare_several_models(tiny_run):
    csv_path, run = tiny_run
    result = runner.invoke(app, ["evaluate", "--data", str(csv_path), "--compare", str(run), str(run / "last.pt")])
    assert result.exit_code == 0, result.output
    assert "best.pt" in result.stdout and "last.pt" in result.stdout


def test_bad_inputs_are_explained(tiny_run, tmp_path):
    csv_path, run = tiny_run
    train_only = tmp_path / "train.csv"
    lines = csv_path.read_text().splitlines()
    train_only.write_text("emotion,pixels\n" + "\n".join(",".join(r.split(",")[:2]) for r in lines[1:]) + "\n")
    with pytest.raises(ValueError, match="has no PrivateTest split"):
        evaluate(run / "best.pt", train_only, split="PrivateTest")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        (tmp_path / "broken.pt").write_bytes(b"PK\x03\x04 truncated")
        evaluate(tmp_path / "broken.pt", csv_path)
    with pytest.raises(ValueError, match="no such model file"):
        evaluate(tmp_path / "missing.pt", csv_path)


def test_checkpoint_of_another_class_count(tiny_run, tmp_path):
    import torch

    csv_path, run = tiny_run
    state = torch.load(run / "best.pt", weights_only=False)
    state["class_names"] = ["a", "b", "c", "d", "e", "f", "g", "h"]
    state["num_classes"] = 8
    for key in ("model_state", "ema_state"):
        if state.get(key):
            state[key] = {
                k: (torch.zeros(8, *v.shape[1:]) if v.shape[:1] == (7,) else v) for k, v in state[key].items()
            }
    torch.save(state, tmp_path / "eight.pt")
    with pytest.raises(ValueError, match="trained on another label set"):
        evaluate(tmp_path / "eight.pt", csv_path)


def test_plot_run_and_inspect(tiny_run, tmp_path):
    _, run = tiny_run
    result = runner.invoke(app, ["plot-run", str(run)])
    assert result.exit_code == 0, result.output
    with Image.open(run / "curves.png") as im:
        assert im.size == (1100, 400)
    face = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "face.png"), face)
    out = tmp_path / "inspect.png"
    result = runner.invoke(
        app, ["inspect", "--model", str(run / "best.pt"), "--image", str(tmp_path / "face.png"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000
    (tmp_path / "notes.txt").write_text("not an image")
    bad = runner.invoke(app, ["inspect", "--model", str(run / "best.pt"), "--image", str(tmp_path / "notes.txt")])
    assert bad.exit_code == 2 and "not a readable image" in bad.stderr
    bad_layer = runner.invoke(
        app, ["inspect", "--model", str(run / "best.pt"), "--image", str(tmp_path / "face.png"), "--layer", "nope"]
    )
    assert bad_layer.exit_code == 2 and "conv layers:" in bad_layer.stderr
