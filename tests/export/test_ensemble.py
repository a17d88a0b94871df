"""The ensemble export: one ONNX averaging its members' probabilities, loadable like any model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.errors import BadInput
from ferkit.evaluate.run import evaluate
from ferkit.export.ensemble import greedy_members
from ferkit.models.checkpoint import load_checkpoint, model_from_checkpoint
from ferkit.models.predict import predict_logits
from ferkit.train import train
from ferkit.weights.onnx_classifier import OnnxClassifier
from tests.conftest import write_fer2013_csv
from tests.train.conftest import tiny_faces, tiny_run_config

runner = CliRunner()


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    root = tmp_path_factory.mktemp("ensemble")
    csv_path = write_fer2013_csv(root / "fer2013.csv", tiny_faces(n_select=48, n_report=48))
    runs = []
    for seed, model in ((0, "fer-vgg-s"), (1, "seed-lenet")):
        cfg = tiny_run_config(csv_path, root / f"m{seed}", epochs=2, lr=0.02, augment="none", amp="off")
        train(cfg.override(seed=seed, model=model))
        runs.append(root / f"m{seed}")
    return csv_path, runs


def _member_probs(run_dir, faces, tta):
    model = model_from_checkpoint(load_checkpoint(run_dir / "best.pt")).float()
    p = torch.softmax(predict_logits(model, faces), 1).numpy()
    if tta == "flip":
        mirrored = np.ascontiguousarray(faces[:, :, ::-1])
        p = (p + torch.softmax(predict_logits(model, mirrored), 1).numpy()) / 2
    return p


def test_the_ensemble_onnx_is_the_mean_of_its_members_with_their_chosen_tta(members, tmp_path):
    csv_path, runs = members
    out = tmp_path / "ensemble.onnx"
    result = runner.invoke(app, ["ensemble", *map(str, runs), "--data", str(csv_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ensemble PublicTest accuracy" in result.output
    classifier = OnnxClassifier(out)
    meta = classifier.metadata
    chosen = json.loads(meta["members"])
    assert [m["model_name"] for m in chosen] == ["fer-vgg-s", "seed-lenet"] and meta["selected_on"] == "PublicTest"
    assert meta["selected_by"] == "all members" and float(meta["publictest_log_loss"]) > 0
    faces = np.random.default_rng(1).integers(0, 256, (20, 48, 48), dtype=np.uint8)
    expected = np.mean([_member_probs(run, faces, m["tta"]) for run, m in zip(runs, chosen)], axis=0)
    np.testing.assert_allclose(classifier.predict_proba(faces), expected, atol=1e-5)
    # evaluate (and so predict/serve/play, which share the ONNX runner) load it like any model
    ev = evaluate(out, csv_path, split="PublicTest")
    assert abs(ev.metrics["accuracy"] - float(meta["publictest_accuracy"])) < 1e-6


def test_an_ensemble_needs_two_members_that_exist(members, tmp_path):
    csv_path, runs = members
    result = runner.invoke(app, ["ensemble", str(runs[0]), "--data", str(csv_path), "--out", str(tmp_path / "e.onnx")])
    assert result.exit_code == 2 and "at least two members" in result.output
    result = runner.invoke(
        app, ["ensemble", str(runs[0]), str(tmp_path / "nope"), "--data", str(csv_path), "--out", str(tmp_path / "e")]
    )
    assert result.exit_code == 2 and "nope: no such model file" in result.output
    result = runner.invoke(
        app, ["ensemble", *map(str, runs), "--data", str(csv_path), "--out", str(tmp_path / "e"), "--select-by", "auc"]
    )
    assert result.exit_code == 2 and "unknown selection score 'auc'" in result.output


def test_greedy_selection_keeps_only_members_that_help_on_publictest():
    labels = np.array([0, 1, 2, 0])
    good = np.eye(3)[[0, 1, 2, 1]]  # 3 of 4
    wrong = np.eye(3)[[1, 2, 0, 2]]  # 0 of 4: adding it can only hurt
    # wrong but unsure on the first three, right and sure where `good` fails: 1 of 4 alone, 4 of 4 with good
    fixes_last = np.array([[0.3, 0.4, 0.3], [0.4, 0.3, 0.3], [0.4, 0.3, 0.3], [2.0, 0.0, 0.0]])
    assert greedy_members([wrong, good], labels) == [1]
    assert greedy_members([good, wrong, fixes_last], labels) == [0, 2]


def test_greedy_on_log_loss_adds_a_member_that_only_makes_the_ensemble_surer():
    labels = np.array([0, 1])
    sure_first = np.array([[0.99, 0.01], [0.4, 0.6]])  # both right; unsure on the second
    sure_second = np.array([[0.6, 0.4], [0.01, 0.99]])  # both right; unsure on the first
    # accuracy cannot tell one member from two (2 of 2 either way); the mean's log-loss is lower
    assert greedy_members([sure_first, sure_second], labels) == [0]
    assert greedy_members([sure_first, sure_second], labels, "log-loss") == [0, 1]
    with pytest.raises(BadInput, match="unknown selection score 'auc'"):
        greedy_members([sure_first, sure_second], labels, "auc")


def test_ferplus_members_are_chosen_on_the_ferplus_majority_votes(tmp_path):
    from tests.data.test_ferplus_and_summary import write_votes

    faces = tiny_faces(n_select=48, n_report=16)
    csv_path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    votes = np.zeros((len(faces), 10), int)
    ferplus_of = {0: 4, 1: 5, 2: 6, 3: 1, 4: 3, 5: 2, 6: 0}  # FER2013 class -> FER+ column
    for i, label in enumerate(faces.labels):
        votes[i, ferplus_of[int(label)]] = 9
        votes[i, 7] = 1
    votes_csv = write_votes(tmp_path / "fer2013new.csv", faces.split_codes, votes)
    runs = []
    for seed in (0, 1):
        cfg = tiny_run_config(csv_path, tmp_path / f"m{seed}", epochs=1, lr=0.02, augment="none", amp="off")
        train(cfg.override(seed=seed, labels="ferplus", ferplus=str(votes_csv)))
        runs.append(tmp_path / f"m{seed}")
    out = tmp_path / "ferplus-ensemble.onnx"
    args = ["ensemble", *map(str, runs), "--data", str(csv_path), "--out", str(out)]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "FER+" in refused.output, refused.output
    result = runner.invoke(app, [*args, "--ferplus", str(votes_csv)])
    assert result.exit_code == 0, result.output
    classifier = OnnxClassifier(out)
    assert classifier.class_names[7] == "contempt"
    ev = evaluate(out, csv_path, split="PublicTest", ferplus=votes_csv)
    assert abs(ev.metrics["accuracy"] - float(classifier.metadata["publictest_accuracy"])) < 1e-4  # stored to 4 places


def _selection(*args: str) -> dict:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "ensemble_selection.py"
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_kept_member_predictions_rechoose_the_same_ensemble_without_the_checkpoints(members, tmp_path):

    csv_path, runs = members
    kept = tmp_path / "kept"
    from_runs = _selection(*map(str, runs), "--data", str(csv_path), "--keep", str(kept))
    files = sorted(kept.glob("*.npz"))
    assert [f.name for f in files] == ["m0.npz", "m1.npz"] and all(f.stat().st_size < 300_000 for f in files)
    from_kept = _selection(*map(str, files), "--data", str(csv_path))
    assert from_kept["rules"] == from_runs["rules"] and from_kept["subset_sizes"] == from_runs["subset_sizes"]


def test_kept_predictions_of_other_faces_or_classes_are_refused(tmp_path):
    from ferkit.evaluate.member_predictions import (
        MemberPredictions,
        read_member_predictions,
        write_member_predictions,
    )

    probs = np.full((4, 2), 0.5, np.float32)
    path = write_member_predictions(
        tmp_path / "m.npz", MemberPredictions("m", "m.pt", ("a", "b"), True, probs, probs, "1" * 64)
    )
    assert read_member_predictions(path, digest="1" * 64, class_names=("a", "b")).flip
    with pytest.raises(BadInput, match="digest differs"):
        read_member_predictions(path, digest="2" * 64, class_names=("a", "b"))
    with pytest.raises(BadInput, match="classes a, b"):
        read_member_predictions(path, digest="1" * 64, class_names=("a", "c"))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(BadInput, match=r"bad\.npz: not a member-predictions file"):
        read_member_predictions(tmp_path / "bad.npz", digest="1" * 64, class_names=("a", "b"))


def _selection_benchmark():
    """benchmarks/ensemble_selection.py as a module (benchmarks/ is not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "ensemble_selection.py"
    spec = importlib.util.spec_from_file_location("ensemble_selection", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_the_stack_weighs_an_informative_member_over_a_noisy_one():
    bench = _selection_benchmark()
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    informative = np.full((600, 3), 0.15) + 0.55 * np.eye(3)[labels]
    noisy = rng.dirichlet(np.ones(3), 600)
    weights, bias = bench.fitted_log_weights([noisy, informative], labels)
    assert weights.sum() == pytest.approx(1) and weights[1] > 0.8 and bias.shape == (3,)
    scores = bench.weighted_log_mean([noisy, informative], weights, bias)
    assert (scores.argmax(1) == labels).mean() == 1.0


def test_the_cross_fitted_stack_scores_faces_its_weights_never_saw():
    bench = _selection_benchmark()
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 400)
    informative = np.full((400, 3), 0.2) + 0.4 * np.eye(3)[labels]
    informative[:100] = rng.dirichlet(np.ones(3), 100)  # a quarter of the faces it gets wrong at random
    noisy = rng.dirichlet(np.ones(3), 400)
    alone, spread = bench.cross_fitted_stack([informative], labels, 4)
    with_noise, _ = bench.cross_fitted_stack([informative, noisy], labels, 4)
    assert 0.75 <= alone <= 0.95 and spread < 0.05
    # a member of pure noise cannot help faces the weights never saw (seeded: the same halvings both times)
    assert with_noise <= alone + 0.01
