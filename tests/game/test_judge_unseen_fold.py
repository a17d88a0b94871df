"""A judge fitted on PublicTest plus the Training fold its model never saw (`--set hold_out=k/K`)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ferkit.data.folds import HELD_OUT_KEY, face_folds
from ferkit.labels import EMOTIONS


def fake_recognizer(metadata: dict[str, str]):
    """A recognizer that reads the true class off the face (tiny_faces writes it as a bright band)."""

    class Classifier:
        def __init__(self):
            self.metadata = metadata

    class FakeRecognizer:
        class_names = EMOTIONS

        def __init__(self, model):
            self.classifier = Classifier()

        def predict_faces(self, faces):
            rows = np.full((len(faces), 7), 0.1 / 6)
            rows[np.arange(len(faces)), [band_class(f) for f in faces]] = 0.9
            return rows

    return FakeRecognizer


def band_class(face: np.ndarray) -> int:
    return int(np.argmax([face[c * 6 : c * 6 + 6].mean() for c in range(7)]))


def frames(recognizer, face, rng, count):
    row = np.full(7, 0.1 / 6)
    row[band_class(face)] = 0.9
    return np.tile(row, (count, 1))


def collect(tmp_path, monkeypatch, metadata):
    import ferkit.infer.judge_fit as judge_fit
    from tests.conftest import write_fer2013_csv
    from tests.train.conftest import tiny_faces

    faces = tiny_faces(n_train=140, n_select=70)
    csv_path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    monkeypatch.setattr(judge_fit, "Recognizer", fake_recognizer(metadata))
    monkeypatch.setattr(judge_fit, "frame_probabilities", frames)
    return faces, judge_fit.collect_evidence("model.onnx", csv_path)


def test_a_model_that_held_out_a_fold_is_judged_on_that_fold_too(tmp_path, monkeypatch):
    faces, evidence = collect(tmp_path, monkeypatch, {HELD_OUT_KEY: "1/3"})
    training = faces.faces[faces.split_codes == 0]
    unseen = training[face_folds(training, 3) == 1]
    assert evidence.unseen_training is not None and evidence.unseen_training.sum() == len(unseen) > 0
    assert (~evidence.unseen_training).sum() == (faces.split_codes == 1).sum()  # every PublicTest face, first
    assert not evidence.unseen_training[: (faces.split_codes == 1).sum()].any()
    labels = faces.labels[faces.split_codes == 0][face_folds(training, 3) == 1]
    np.testing.assert_array_equal(evidence.labels[evidence.unseen_training], labels)
    assert f"+ {len(unseen)} faces of the Training fold the model never saw" in evidence.fit().fitted_on

    loaded = type(evidence).load(evidence.save(tmp_path / "evidence.npz"))
    np.testing.assert_array_equal(loaded.unseen_training, evidence.unseen_training)


def test_a_model_that_saw_every_face_is_judged_on_publictest_alone(tmp_path, monkeypatch):
    faces, evidence = collect(tmp_path, monkeypatch, {})
    assert evidence.unseen_training is None and len(evidence.labels) == (faces.split_codes == 1).sum()
    assert evidence.fit().fitted_on.startswith("PublicTest, webcam-like frames")
    assert type(evidence).load(evidence.save(tmp_path / "evidence.npz")).unseen_training is None


def test_judge_policies_scores_only_publictest_halves_and_fits_on_every_unseen_face():
    """Two evidence files, one with unseen Training faces, are halved and scored on the same PublicTest faces."""
    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from judge_policies import split_faces

    from ferkit.infer.judge_fit import JudgeEvidence

    labels = np.arange(60) % 7
    probs = np.full((60, 7), 1 / 7)
    plain = JudgeEvidence(EMOTIONS, probs, probs, labels)
    unseen = np.arange(90) >= 60
    more = JudgeEvidence(EMOTIONS, np.vstack([probs, probs[:30]]), np.vstack([probs, probs[:30]]),
                         np.concatenate([labels, labels[:30]]), None, unseen)  # fmt: skip
    fit_a, score_a = split_faces(plain, np.random.default_rng(0), unseen=True)
    fit_b, score_b = split_faces(more, np.random.default_rng(0), unseen=True)
    np.testing.assert_array_equal(score_b[:60], score_a)
    np.testing.assert_array_equal(fit_b[:60], fit_a)
    assert fit_b[60:].all() and not score_b[60:].any()
    fit_c, _ = split_faces(more, np.random.default_rng(0), unseen=False)
    assert not fit_c[60:].any()


def test_an_export_names_the_training_fold_its_model_never_saw():
    from ferkit.export.common import model_metadata

    state = {"class_names": EMOTIONS, "model_name": "fer-vgg-s", "epoch": 3, "config": {"hold_out": "0/5"}}
    assert model_metadata(state)[HELD_OUT_KEY] == "0/5"
    assert HELD_OUT_KEY not in model_metadata(state | {"config": {"hold_out": ""}})
    assert HELD_OUT_KEY not in model_metadata({k: v for k, v in state.items() if k != "config"})


def test_fold_models_out_of_fold_poses_join_a_full_models_publictest(tmp_path, monkeypatch):
    """Probe 10's evidence: the full model's PublicTest poses plus each fold-model's poses of its unseen fold."""
    import pytest

    from ferkit.errors import ModelError

    faces, full = collect(tmp_path, monkeypatch, {})
    folds = [collect(tmp_path, monkeypatch, {HELD_OUT_KEY: f"{k}/3"})[1] for k in range(3)]
    merged = full.with_out_of_fold(folds)
    publictest, training = (faces.split_codes == 1).sum(), (faces.split_codes == 0).sum()
    assert len(merged.labels) == publictest + training  # every Training face once, from the model that never saw it
    assert not merged.unseen_training[:publictest].any() and merged.unseen_training[publictest:].all()
    np.testing.assert_array_equal(merged.held[:publictest], full.held)
    expected = np.concatenate([fold.labels[fold.unseen_training] for fold in folds])
    np.testing.assert_array_equal(merged.labels[publictest:], expected)
    assert merged.fit().knots  # fits like any evidence
    with pytest.raises(ModelError, match="held a Training fold out"):
        full.with_out_of_fold([full])


def test_the_proxy_check_reads_only_publictest_rows():
    """judge_fold_proxy.py compares models on the faces all of them never saw: the unseen Training rows stay out."""
    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from judge_fold_proxy import true_class_medians

    from ferkit.infer.judge_fit import JudgeEvidence

    labels = np.arange(14) % 7
    held = np.full((14, 7), 0.1)
    held[np.arange(14), labels] = np.where(np.arange(14) < 7, 0.4, 0.6)  # PublicTest rows 0.4/0.6, median 0.5
    full = JudgeEvidence(EMOTIONS, held, held, labels)
    extra = np.vstack([held, np.full((7, 7), 0.0)])
    fold = JudgeEvidence(EMOTIONS, extra, extra, np.concatenate([labels, np.arange(7)]), None, np.arange(21) >= 14)
    np.testing.assert_allclose(true_class_medians(full), 0.5)
    np.testing.assert_allclose(true_class_medians(fold), 0.5)  # the unseen rows' zeros would pull it down


def test_probe_11_maps_a_fold_models_columns_onto_the_full_models():
    """judge_mapped_folds.py: out-of-fold rows move through quantiles fitted on the fitting half's PublicTest faces."""
    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from judge_mapped_folds import mapped_rows

    from ferkit.infer.judge_fit import JudgeEvidence

    labels = np.arange(14) % 7
    rng = np.random.default_rng(0)
    full_probs = rng.uniform(0.2, 0.8, (14, 7))
    full = JudgeEvidence(EMOTIONS, full_probs, full_probs, labels)
    fold_probs = np.vstack([full_probs / 2, full_probs[:7] / 2])  # a fold-model half as sure, on every face
    fold = JudgeEvidence(EMOTIONS, fold_probs, fold_probs, np.concatenate([labels, labels[:7]]), None,
                         np.arange(21) >= 14)  # fmt: skip
    fit_half = np.arange(14) % 2 == 0
    held, crops = mapped_rows(full, fold, fit_half)
    on_fit = np.isin(np.arange(7), np.flatnonzero(fit_half))
    np.testing.assert_allclose(held[on_fit], full_probs[:7][on_fit])  # faces the map was fitted on land exactly
    np.testing.assert_allclose(crops, held)
    assert held.shape == (7, 7)
