"""The balanced decision rule: fitted on PublicTest, stored in the ONNX model, applied by every reader of it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.evaluate.decision_fit import fit_prior_shift
from ferkit.evaluate.run import evaluate
from ferkit.export.onnx_export import export_onnx
from ferkit.weights.decision_rule import METADATA_KEY, PriorShift, shifted
from ferkit.weights.metadata import with_metadata
from ferkit.weights.onnx_classifier import ModelFileError, OnnxClassifier

pytest.importorskip("onnx")


def test_the_fitted_power_moves_a_skewed_model_towards_an_even_mix():
    # a model that learned a skewed prior: its posterior is the even-mix posterior times the prior
    rng = np.random.default_rng(0)
    prior = np.array([0.7, 0.2, 0.1])
    labels = np.repeat([0, 1, 2], 200)  # PublicTest here: every class equally common
    evidence = rng.dirichlet([1, 1, 1], len(labels)) * 0.5 + np.eye(3)[labels] * 0.5
    skewed = evidence * prior
    skewed /= skewed.sum(1, keepdims=True)
    rule, scores = fit_prior_shift(skewed, labels, prior, ("a", "b", "c"), "test")
    assert rule.power >= 0.8  # Bayes' rule (power 1) undoes what the prior did
    by_power = {s.power: s for s in scores}
    assert by_power[rule.power].balanced_accuracy > by_power[0.0].balanced_accuracy + 0.1
    offsets = rule.logit_offsets(("a", "b", "c"))
    np.testing.assert_allclose(offsets, -rule.power * np.log(prior), rtol=1e-6)
    np.testing.assert_allclose(shifted(skewed, offsets).sum(1), 1.0, rtol=1e-6)


def test_the_rule_travels_as_json_and_bad_ones_are_refused():
    rule = PriorShift({"a": 0.75, "b": 0.25}, 0.5, "PublicTest")
    assert PriorShift.from_json(rule.to_json()) == rule
    with pytest.raises(Exception, match="unreadable"):
        PriorShift.from_json('{"format": "other"}')
    with pytest.raises(Exception, match="outside"):
        PriorShift.from_json(json.dumps({"format": "ferkit-decision-v1", "priors": {"a": 0.0}, "power": 0.5}))
    with pytest.raises(Exception, match="classes"):
        rule.logit_offsets(("a", "c"))


def test_a_model_carries_its_rule_and_every_reader_applies_it(tiny_run, tmp_path):
    csv_path, run = tiny_run
    plain = export_onnx(run / "best.pt", tmp_path / "plain.onnx").path
    classes = OnnxClassifier(plain).class_names
    result = CliRunner().invoke(
        app, ["fit-rule", "--model", str(plain), "--data", str(csv_path), "--out", str(tmp_path / "ruled.onnx")]
    )
    assert result.exit_code == 0, result.output
    assert "balanced log-loss" in result.output and "written" in result.output
    ruled = tmp_path / "ruled.onnx"
    balanced, as_trained = OnnxClassifier(ruled), OnnxClassifier(ruled, rule="as-trained")
    assert balanced.rule == "balanced" and as_trained.rule == "as-trained"
    assert OnnxClassifier(plain).rule == "as-trained"  # no stored rule: nothing to apply
    rule = balanced.decision_rule
    assert rule is not None and set(rule.priors) == set(classes) and 0 <= rule.power <= 1
    faces = np.random.default_rng(1).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    np.testing.assert_allclose(as_trained.predict_proba(faces), OnnxClassifier(plain).predict_proba(faces), atol=1e-6)
    expected = shifted(as_trained.predict_proba(faces), rule.logit_offsets(classes))
    np.testing.assert_allclose(balanced.predict_proba(faces), expected, atol=1e-5)
    # evaluate scores as-trained unless asked: the published tables' rule
    as_published = evaluate(ruled, csv_path, split="PublicTest")
    assert as_published.metrics["rule"] == "as-trained"
    assert as_published.metrics["accuracy"] == evaluate(plain, csv_path, split="PublicTest").metrics["accuracy"]
    assert "balanced_accuracy" in evaluate(ruled, csv_path, split="PublicTest", rule="balanced").metrics


def test_a_damaged_rule_is_named_with_the_file(tiny_run, tmp_path):
    _, run = tiny_run
    plain = export_onnx(run / "best.pt", tmp_path / "plain.onnx").path
    bad = with_metadata(plain, tmp_path / "bad.onnx", METADATA_KEY, '{"format": "ferkit-decision-v1"}')
    with pytest.raises(ModelFileError, match=r"bad\.onnx"):
        OnnxClassifier(bad)
    other = PriorShift({"x": 0.5, "y": 0.5}, 0.5).to_json()
    with pytest.raises(ModelFileError, match="classes"):
        OnnxClassifier(with_metadata(plain, tmp_path / "other.onnx", METADATA_KEY, other))
    with pytest.raises(Exception, match="rule must be"):
        OnnxClassifier(plain, rule="posed")
