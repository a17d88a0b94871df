"""Metrics agree with scikit-learn on fixed predictions; calibration and TTA behave."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from ferkit.evaluate.calibration import apply_temperature, fit_temperature
from ferkit.evaluate.metrics import expected_calibration_error, summary_metrics
from ferkit.evaluate.tta import tta_views
from ferkit.labels import EMOTIONS


@pytest.fixture
def fixed_predictions():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 7, 500)
    probs = rng.dirichlet(np.ones(7), 500)
    probs[np.arange(250), y_true[:250]] += 1.0  # half are confidently right
    return y_true, probs / probs.sum(1, keepdims=True)


def test_metrics_match_scikit_learn(fixed_predictions):
    y_true, probs = fixed_predictions
    y_pred = probs.argmax(1)
    m = summary_metrics(y_true, probs, EMOTIONS)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average="macro"))
    np.testing.assert_array_equal(m["confusion_matrix"], skm.confusion_matrix(y_true, y_pred, labels=range(7)))
    precision, recall, f1, support = skm.precision_recall_fscore_support(y_true, y_pred, labels=range(7))
    for k, name in enumerate(EMOTIONS):
        c = m["per_class"][name]
        assert (c["precision"], c["recall"], c["f1"], c["support"]) == pytest.approx(
            (precision[k], recall[k], f1[k], support[k])
        )
        one_vs_rest = skm.accuracy_score(y_true == k, y_pred == k)
        assert c["accuracy"] == pytest.approx(one_vs_rest)
    assert m["true_counts"] == np.bincount(y_true, minlength=7).tolist()
    assert m["predicted_counts"] == np.bincount(y_pred, minlength=7).tolist()


def test_temperature_scaling_fixes_overconfidence():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 7, 2000)
    logits = rng.normal(size=(2000, 7))
    logits[np.arange(2000), y] += 1.0
    overconfident = logits * 4  # same ranking, far too sharp
    probs = np.exp(overconfident) / np.exp(overconfident).sum(1, keepdims=True)
    t = fit_temperature(overconfident, y)
    assert 3 < t < 5
    ece_before, _ = expected_calibration_error(probs, y)
    ece_after, _ = expected_calibration_error(apply_temperature(probs, t), y)
    assert ece_after < ece_before / 2
    assert (apply_temperature(probs, t).argmax(1) == probs.argmax(1)).all()  # accuracy is untouched


def test_tta_views():
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    assert len(tta_views(faces, "none")) == 1
    flip = tta_views(faces, "flip")
    np.testing.assert_array_equal(flip[1], faces[:, :, ::-1])
    ten = tta_views(faces, "tencrop")
    assert len(ten) == 10 and all(v.shape == faces.shape for v in ten)
    np.testing.assert_array_equal(ten[0], faces)  # the centre window is the face itself
    with pytest.raises(KeyError, match="tencrop"):
        tta_views(faces, "twelve")
