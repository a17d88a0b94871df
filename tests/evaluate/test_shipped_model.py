"""The shipped models: they load without torch-side files, their cards are complete, their PrivateTest claims hold."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from ferkit.evaluate.metrics import summary_metrics
from ferkit.evaluate.predictors import load_predictor
from ferkit.evaluate.run import evaluate
from ferkit.labels import EMOTIONS, FERPLUS_EMOTIONS
from ferkit.weights import default_model_card, shipped_model_card, shipped_model_path
from ferkit.weights.decision_rule import shifted
from tests.conftest import FER2013_TARBALL, FERPLUS_CSV


def test_default_model_predicts_probabilities():
    predictor = load_predictor("default")
    assert predictor.class_names == EMOTIONS
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    probs = predictor.predict_proba(faces)
    assert probs.shape == (5, 7)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)


def test_card_names_data_splits_and_command():
    card = default_model_card()
    assert card["selected_on"].startswith("FER2013 PublicTest")
    assert card["reported_on"].startswith("FER2013 PrivateTest")
    assert card["command"].startswith("ferkit export")
    assert card["results"]["PrivateTest/none"]["accuracy"] > 0.68


def test_the_ferplus_model_names_fer_plus_splits_and_carries_a_judge():
    predictor = load_predictor("ferplus")
    assert predictor.class_names == FERPLUS_EMOTIONS
    card = shipped_model_card("ferplus")
    assert card["classes"] == list(FERPLUS_EMOTIONS) and "majority vote" in card["reported_on"]
    # from scratch, distilled from the previous FER+ model's committed teacher file, then class-weighted
    assert "teacher=teachers/ferplus-model-flip.npz" in card["training_command"]
    assert card["training_command"].startswith("ferkit train")
    assert card["recipe"]["balance"] == "weighted"
    assert "judge_calibration" in predictor.metadata


def test_the_int8_model_is_the_default_quantized_with_its_metadata():
    """`default-int8` is default.onnx quantized (ferkit export default --int8): same classes, rule and judge."""
    int8, fp32 = load_predictor("default-int8"), load_predictor("default")
    assert int8.class_names == fp32.class_names
    for key in ("decision_rule", "judge_calibration"):
        assert int8.metadata.get(key) == fp32.metadata.get(key) and fp32.metadata.get(key), key
    card = shipped_model_card("default-int8")
    assert card["quantized_from"]["sha256"] == hashlib.sha256(shipped_model_path("default").read_bytes()).hexdigest()
    assert card["command"].startswith("ferkit export default --format onnx --int8")
    faces = np.random.default_rng(0).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    assert (int8.predict_proba(faces).argmax(1) == fp32.predict_proba(faces).argmax(1)).mean() > 0.9


def test_the_game_model_in_int8_is_ferplus_quantized_with_its_own_rule_and_judge():
    """`ferplus-int8` = ferplus.onnx quantized, then its rule and judge refitted on its own outputs (its card)."""
    int8, fp32 = load_predictor("ferplus-int8"), load_predictor("ferplus")
    assert int8.class_names == fp32.class_names == FERPLUS_EMOTIONS
    card = shipped_model_card("ferplus-int8")
    assert card["quantized_from"]["sha256"] == hashlib.sha256(shipped_model_path("ferplus").read_bytes()).hexdigest()
    assert "judge_calibration" in int8.metadata
    assert "--model src/ferkit/weights/ferplus-int8.onnx" in card["judge"]["command"]
    assert int8.decision_rule.power == card["decision_rule"]["power"]
    faces = np.random.default_rng(0).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    assert (int8.predict_proba(faces).argmax(1) == fp32.predict_proba(faces).argmax(1)).mean() > 0.9


@pytest.mark.slow
@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
def test_the_int8_model_reproduces_its_card_within_a_tenth_of_a_point_of_fp32():
    card = shipped_model_card("default-int8")
    got = evaluate("default-int8", FER2013_TARBALL, split="PrivateTest").metrics
    assert got["accuracy"] == pytest.approx(card["results"]["PrivateTest/none"]["accuracy"], abs=1e-9)
    fp32 = card["quantized_from"]["results"]["PrivateTest/none"]["accuracy"]
    assert abs(got["accuracy"] - fp32) < 0.001


@pytest.mark.slow
@pytest.mark.skipif(not FERPLUS_CSV.exists(), reason=f"FER+ votes not found at {FERPLUS_CSV}")
@pytest.mark.parametrize("name", ["default", "ferplus", "ferplus-int8"])
def test_each_shipped_model_reproduces_its_card_with_and_without_its_balanced_rule(name):
    """One PrivateTest evaluation (~10 s): the card's headline accuracy, and its rule's figures from the same
    probabilities shifted as the rule shifts them (the rule run inside onnxruntime: test_decision_rule.py)."""
    whole_card = shipped_model_card(name)
    card = whole_card["decision_rule"]
    rule = load_predictor(name, "balanced").decision_rule
    assert rule.power == card["power"]
    plain = evaluate(name, FER2013_TARBALL, split="PrivateTest", ferplus=FERPLUS_CSV, rule="as-trained")
    balanced = summary_metrics(
        plain.labels, shifted(plain.probs, rule.logit_offsets(plain.class_names)), plain.class_names
    )
    for rule_name, got in (("as-trained", plain.metrics), ("balanced", balanced)):
        want = card["results"]["PrivateTest"][rule_name]
        assert got["accuracy"] == pytest.approx(want["accuracy"], abs=5e-5)
        assert got["balanced_accuracy"] == pytest.approx(want["balanced_accuracy"], abs=5e-5)
    # the card's headline figure, exactly (the FER+ one on the majority vote)
    headline = whole_card["results"]["PrivateTest/none"]
    assert plain.metrics["accuracy"] == pytest.approx(headline["accuracy"], abs=1e-9)
    assert plain.metrics["n"] == headline["n"]
    assert plain.metrics["accuracy"] > {"default": 0.68, "ferplus": 0.85, "ferplus-int8": 0.85}[name]
    # the rule trades a little accuracy for the rare expressions: more of them recognised on average
    assert (
        card["results"]["PrivateTest"]["balanced"]["balanced_accuracy"]
        > card["results"]["PrivateTest"]["as-trained"]["balanced_accuracy"]
    )
