"""Cross-fitted teachers: runs that hold out a fold of Training, and the teacher file they make together."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.data import load_faces
from ferkit.data.folds import face_folds, parse_hold_out
from ferkit.data.teacher import read_teacher, taught_rows
from ferkit.errors import BadInput
from ferkit.evaluate.predictors import load_predictor
from ferkit.evaluate.teach import cross_fitted_teacher
from ferkit.labels import SPLITS, TRAIN_SPLIT
from ferkit.train import train
from tests.train.conftest import tiny_faces


def test_hold_out_reads_k_of_k_and_refuses_anything_else():
    assert parse_hold_out("") is None
    assert parse_hold_out("1/3") == (1, 3) and parse_hold_out(" 0 / 2 ") == (0, 2)
    for bad in ("2/2", "0/1", "a/b", "1", "-1/2"):
        with pytest.raises(BadInput, match="hold_out"):
            parse_hold_out(bad)


def test_identical_faces_share_a_fold_and_every_fold_is_used():
    faces = tiny_faces().faces[:96]
    copies = np.concatenate([faces, faces[::-1]])  # each face twice, in another row
    folds = face_folds(copies, 3)
    np.testing.assert_array_equal(folds[:96], folds[96:][::-1])
    assert set(folds.tolist()) == {0, 1, 2}


def test_a_run_with_a_fold_held_out_never_trains_on_it(tiny_config, capsys):
    train(tiny_config.override(epochs=1, hold_out="0/2"))
    first = capsys.readouterr().err.splitlines()[0]
    kept = int((face_folds(tiny_faces().faces[:96], 2) != 0).sum())
    assert f"(7 classes, {kept} faces, fold 0/2 held out)" in first


@pytest.fixture
def two_folds(tiny_config, tmp_path):
    """Two one-epoch runs, each holding out one half of the tiny Training split."""
    runs = [tmp_path / f"fold{k}" for k in (0, 1)]
    for k, run in enumerate(runs):
        train(tiny_config.override(epochs=1, hold_out=f"{k}/2", out=str(run), seed=k))
    return runs


def test_each_training_face_is_taught_by_the_run_that_never_saw_it(two_folds, tiny_config):
    teacher = cross_fitted_teacher(two_folds, tiny_config.data, tta="none")
    faces = load_faces(tiny_config.data)
    taught = np.asarray(faces.faces)[taught_rows(faces)]
    training = teacher.split_codes == SPLITS.index(TRAIN_SPLIT)
    members = [load_predictor(run).predict_proba(taught) for run in two_folds]
    folds = face_folds(taught, 2)
    for k in (0, 1):
        unseen = training & (folds == k)
        np.testing.assert_allclose(teacher.probabilities[unseen], members[k][unseen], atol=2e-3)  # float16
    np.testing.assert_allclose(teacher.probabilities[~training], (members[0] + members[1])[~training] / 2, atol=2e-3)
    assert len(teacher.members) == 2 and "fold 1/2 held out" in teacher.members[1]


def test_the_cli_writes_it_and_refuses_an_incomplete_or_unfolded_set(two_folds, tiny_config, tmp_path):
    runner = CliRunner()
    out = tmp_path / "oof.npz"
    args = ["teach", "--data", tiny_config.data, "--out", str(out)]
    done = runner.invoke(app, [*args, "--cross-fitted", str(two_folds[0]), "--cross-fitted", str(two_folds[1])])
    assert done.exit_code == 0, done.output
    assert read_teacher(out).probabilities.shape == (96 + 32, 7)
    missing = runner.invoke(app, [*args, "--cross-fitted", str(two_folds[0])])
    assert missing.exit_code == 2 and "missing fold(s) [1]" in missing.output
    twice = runner.invoke(app, [*args, "--cross-fitted", str(two_folds[0]), "--cross-fitted", str(two_folds[0])])
    assert twice.exit_code == 2 and "each fold of one K once" in twice.output
    plain = tmp_path / "plain"
    train(tiny_config.override(epochs=1, out=str(plain)))
    unfolded = runner.invoke(app, [*args, "--cross-fitted", str(plain), "--cross-fitted", str(two_folds[1])])
    assert unfolded.exit_code == 2 and "saw every face" in unfolded.output
