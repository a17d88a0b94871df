"""Teacher files (format, checks, FER+ votes) and distillation in the fit loop, on tiny data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.data import DataError, load_faces
from ferkit.data.faceset import FaceSet
from ferkit.data.teacher import (
    Teacher,
    aligned_teacher,
    faceset_digest,
    ferplus_vote_teacher,
    read_teacher,
    taught_rows,
    write_teacher,
)
from ferkit.labels import EMOTIONS, FERPLUS_EMOTIONS
from ferkit.models.checkpoint import load_checkpoint
from ferkit.train import train
from ferkit.train.loop import distillation_loss, soft_cross_entropy, tempered
from tests.train.conftest import tiny_faces


def _uniform_teacher(faces: FaceSet, class_names=EMOTIONS) -> Teacher:
    rows = taught_rows(faces)
    n = int(rows.sum())
    probs = np.full((n, len(class_names)), 1 / len(class_names), np.float16)
    return Teacher(probs, faces.labels[rows], faces.split_codes[rows], class_names, ("uniform",), faceset_digest(faces))


def test_a_teacher_file_round_trips_small_and_never_covers_privatetest(tmp_path):
    faces = tiny_faces()
    path = write_teacher(tmp_path / "t.npz", _uniform_teacher(faces))
    back = read_teacher(path)
    assert back.probabilities.dtype == np.float16 and back.class_names == EMOTIONS
    assert set(np.unique(back.split_codes)) == {0, 1} and len(back.labels) == 96 + 32
    aligned = aligned_teacher(faces, back, EMOTIONS, path)
    assert np.isnan(aligned[faces.split_codes == 2]).all()  # PrivateTest: no teacher
    np.testing.assert_allclose(aligned[faces.split_codes < 2], 1 / 7, atol=1e-3)


def test_a_pack_of_the_same_faces_matches_the_teacher_of_the_full_file(tmp_path):
    faces = tiny_faces()
    teacher = _uniform_teacher(faces)
    pack_like = faces.subset(faces.split_codes < 2)  # what the GPU job sees: no PrivateTest
    assert faceset_digest(pack_like) == teacher.dataset_sha256
    aligned_teacher(pack_like, teacher, EMOTIONS, "t.npz")


def test_a_teacher_for_other_faces_or_classes_is_refused(tmp_path):
    faces = tiny_faces()
    teacher = _uniform_teacher(faces)
    with pytest.raises(DataError, match=r"t\.npz: was made for other faces"):
        aligned_teacher(tiny_faces(seed=1), teacher, EMOTIONS, "t.npz")
    with pytest.raises(DataError, match=r"teaches the classes angry.*this run trains neutral"):
        aligned_teacher(faces, teacher, FERPLUS_EMOTIONS, "t.npz")


def test_bad_teacher_files_are_named_and_never_unpickled(tmp_path):
    hostile = tmp_path / "hostile.npz"
    np.savez(hostile, format=np.array([object()], dtype=object))
    with pytest.raises(DataError, match=r"hostile\.npz: not a ferkit teacher file"):
        read_teacher(hostile)
    other = tmp_path / "other.npz"
    np.savez(other, probabilities=np.zeros((2, 7)))
    with pytest.raises(DataError, match="missing"):
        read_teacher(other)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(DataError, match=r"text\.npz: not a ferkit teacher file"):
        read_teacher(tmp_path / "text.npz")
    with pytest.raises(DataError, match="no such teacher file"):
        read_teacher(tmp_path / "absent.npz")


def test_ferplus_votes_teach_the_seven_classes_leaving_out_contempt_unknown_and_not_a_face():
    faces = tiny_faces(n_train=3, n_select=0, n_report=0)
    votes = np.zeros((3, 10), np.uint8)
    votes[0, [0, 1, 7, 8, 9]] = [6, 2, 1, 1, 1]  # neutral 6, happiness 2, contempt/unknown/NF dropped
    votes[1, 4] = 10  # anger
    votes[2, [7, 9]] = [5, 5]  # nothing left: the FER2013 label stands
    faces = FaceSet(faces.faces, faces.labels, faces.split_codes, votes, "tiny")
    p = ferplus_vote_teacher(faces).probabilities
    np.testing.assert_allclose(p[0, [EMOTIONS.index("neutral"), EMOTIONS.index("happy")]], [0.75, 0.25])
    assert p[1, EMOTIONS.index("angry")] == 1
    assert p[2].argmax() == faces.labels[2] and p[2].max() == 1


def test_the_distillation_term_is_the_kl_divergence_scaled_by_t_squared():
    logits = torch.randn(5, 7)
    teacher = torch.softmax(torch.randn(5, 7), dim=1)
    for t in (1.0, 3.0):
        soft = tempered(teacher, t)
        kl = torch.nn.functional.kl_div(torch.log_softmax(logits / t, 1), soft, reduction="batchmean")
        entropy = -(soft * soft.log()).sum(1).mean()
        assert torch.allclose(distillation_loss(logits, soft, t), (kl + entropy) * t * t, atol=1e-5)
    assert torch.allclose(tempered(teacher, 1.0), teacher)
    assert torch.allclose(soft_cross_entropy(logits, teacher, None), distillation_loss(logits, teacher, 1.0))


@pytest.fixture
def teacher_file(tiny_csv, tmp_path):
    """A teacher that is sure of the wrong class (label + 1) on every face."""
    faces = load_faces(tiny_csv)
    rows = taught_rows(faces)
    wrong = (faces.labels[rows].astype(int) + 1) % 7
    probs = np.eye(7, dtype=np.float16)[wrong] * 0.94 + 0.01
    teacher = Teacher(probs, faces.labels[rows], faces.split_codes[rows], EMOTIONS, ("wrong",), faceset_digest(faces))
    return write_teacher(tmp_path / "wrong.npz", teacher)


def test_a_student_follows_the_teacher_it_is_given(tiny_config, teacher_file):
    """Weight 1: the labels are ignored and the (deliberately wrong) teacher is learnt instead."""
    cfg = tiny_config.override(epochs=6, lr=0.05, teacher=str(teacher_file), distill_weight=1.0, label_smoothing=0.0)
    result = train(cfg)
    assert result.history[-1]["train_accuracy"] < 0.3  # far below the labels' own fit of this easy data
    state = load_checkpoint(result.run_dir / "last.pt")
    assert state["config"]["teacher"] == str(teacher_file)


def test_resume_with_a_teacher_equals_an_uninterrupted_run(tiny_config, teacher_file, tmp_path):
    cfg = tiny_config.override(teacher=str(teacher_file), distill_weight=0.5, distill_temperature=2.0, augment="strong")
    straight = train(cfg.override(out=str(tmp_path / "a")))
    train(cfg.override(out=str(tmp_path / "b"), max_minutes=1e-9))
    resumed = train(cfg, resume=tmp_path / "b")
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_teach_cli_writes_a_small_file_from_a_model_or_from_ferplus_votes(tiny_csv, tiny_config, tmp_path):
    run = train(tiny_config.override(epochs=1))
    out = tmp_path / "teacher.npz"
    result = CliRunner().invoke(app, ["teach", "--model", str(run.run_dir), "--data", str(tiny_csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "128 faces × 7 classes" in result.output and "top class = FER2013 label" in result.output
    teacher = read_teacher(out)
    assert teacher.probabilities.shape == (128, 7) and out.stat().st_size < 1_000_000
    aligned_teacher(load_faces(tiny_csv), teacher, EMOTIONS, out)
    result = CliRunner().invoke(app, ["teach", "--data", str(tiny_csv), "--out", str(out)])
    assert result.exit_code == 2 and "give the teacher: --model MODEL, --ferplus-votes" in result.output


def test_train_cli_names_a_teacher_for_other_data(tiny_csv, teacher_file, tmp_path):
    from tests.conftest import write_fer2013_csv

    other = write_fer2013_csv(tmp_path / "other.csv", tiny_faces(seed=3))
    args = ["train", "--recipe", "smoke", "--data", str(other), "--out", str(tmp_path / "r"), "--set"]
    result = CliRunner().invoke(app, [*args, f"teacher={teacher_file}"])
    assert result.exit_code == 2 and "wrong.npz: was made for other faces" in result.output
