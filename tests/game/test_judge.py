"""The fair judge: per-expression curves fitted on true and other faces, carried by the model, used by rounds."""

from __future__ import annotations

import numpy as np
import pytest

from ferkit.game.rules import RoundScorer
from ferkit.infer.judge import (
    CLEAR_SCORE,
    FALSE_REWARD_RATE,
    MEDIAN_SCORE,
    PLATEAU_SCORES,
    WIN_SCORE,
    JudgeCalibration,
    JudgePolicy,
    fit_judge,
)
from ferkit.labels import EMOTIONS


def confusable_probabilities(seed: int = 0, n: int = 700) -> tuple[np.ndarray, np.ndarray]:
    """Happy is easy (true faces near 0.9), fear is hard (true faces near 0.25, others up to 0.3)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(EMOTIONS)
    probs = rng.uniform(0, 0.15, (n, len(EMOTIONS)))
    happy, fear = EMOTIONS.index("happy"), EMOTIONS.index("fear")
    probs[labels == happy, happy] = rng.uniform(0.7, 1.0, (labels == happy).sum())
    probs[labels == fear, fear] = rng.uniform(0.1, 0.45, (labels == fear).sum())
    probs[labels != fear, fear] = rng.uniform(0.0, 0.3, (labels != fear).sum())
    return probs, labels


def test_curves_bound_false_rewards_and_even_out_the_median_true_face():
    probs, labels = confusable_probabilities()
    judge = fit_judge(probs, labels, EMOTIONS, "synthetic")
    for c, name in enumerate(EMOTIONS):
        scores = np.array([judge.score(name, p) for p in probs[:, c]])
        # false rewards counted per other class, each class weighing the same (the faces are balanced here)
        assert (scores[labels != c] >= WIN_SCORE).mean() <= FALSE_REWARD_RATE + 1e-9
        xs, ys = zip(*judge.knots[name])
        assert xs[0] == 0 and xs[-1] == 1 and list(xs) == sorted(xs) and list(ys) == sorted(ys)
    # raw: a typical fear face would score ~27 and a typical happy one ~85; judged, both the median
    happy_true = np.median([judge.score("happy", p) for p in probs[labels == 3, 3]])
    fear_true = np.median([judge.score("fear", p) for p in probs[labels == 2, 2]])
    assert happy_true == pytest.approx(MEDIAN_SCORE, abs=1) and fear_true > 40


def test_the_win_bar_also_holds_on_plain_crops_where_the_model_is_surer():
    frames, labels = confusable_probabilities()
    crops = frames.copy()
    happy = EMOTIONS.index("happy")
    crops[labels != happy, happy] *= 2  # other faces look happier as sharp crops than in webcam frames
    judge = fit_judge(frames, labels, EMOTIONS, "synthetic", crop_probabilities=crops)
    for probs in (frames, crops):  # neither way of seeing the faces lets more than the rate win
        scores = np.array([judge.score("happy", p) for p in probs[:, happy]])
        assert (scores[labels != happy] >= WIN_SCORE).mean() <= FALSE_REWARD_RATE + 1e-9
    frames_only = fit_judge(frames, labels, EMOTIONS, "synthetic")
    assert judge.knots["happy"][1][0] > frames_only.knots["happy"][1][0]
    assert judge.knots["fear"] == frames_only.knots["fear"]  # crops no surer than frames: the bar stays


def test_curves_travel_as_json_and_bad_ones_are_refused():
    probs, labels = confusable_probabilities()
    judge = fit_judge(probs, labels, EMOTIONS, "synthetic")
    again = JudgeCalibration.from_json(judge.to_json())
    assert again.knots == judge.knots and again.score("fear", 0.3) == judge.score("fear", 0.3)
    with pytest.raises(ValueError, match="not an increasing curve"):
        JudgeCalibration.from_json('{"format": "ferkit-judge-v1", "knots": {"sad": [[0, 0], [0.5, 80], [1, 40]]}}')
    with pytest.raises(ValueError, match="format"):
        JudgeCalibration.from_json('{"format": "something else", "knots": {}}')


def test_a_round_scores_through_the_judge_and_falls_back_to_raw_without_one():
    judge = JudgeCalibration({"fear": ((0.0, 0.0), (0.2, 50.0), (1.0, 100.0))})
    judged, raw = RoundScorer("fear", judge=judge), RoundScorer("fear")
    for p in (0.2, 0.25, 0.2):
        judged.add(p, True)
        raw.add(p, True)
    assert judged.score == 50 and raw.score == 25  # raw: 0.2 × 100 × fear's 1.25 difficulty
    assert judged.score_of(0.6) == 75


def test_the_shipped_model_carries_its_judge():
    from ferkit.infer import Recognizer

    judge = Recognizer().judge
    assert judge is not None and set(judge.knots) <= set(EMOTIONS) and "PublicTest" in judge.fitted_on


def test_write_judge_puts_the_curves_in_a_copy_of_the_model(tmp_path):
    pytest.importorskip("onnx")
    from ferkit.infer import Recognizer
    from ferkit.infer.judge_fit import write_judge
    from ferkit.weights import default_model_path

    judge = JudgeCalibration({"sad": ((0.0, 0.0), (0.4, 50.0), (1.0, 100.0))}, "test")
    out = write_judge(default_model_path(), tmp_path / "m.onnx", judge)
    loaded = Recognizer(out).judge
    assert loaded.knots == judge.knots and loaded.fitted_on == "test"


def test_a_ferplus_model_is_judged_against_the_ferplus_majority(tmp_path, monkeypatch):
    """calibrate-judge on a FER+ model fits each curve on the faces whose annotators' majority is that class."""
    import ferkit.infer.judge_fit as judge_fit
    from ferkit.labels import FERPLUS_EMOTIONS
    from tests.conftest import write_fer2013_csv
    from tests.data.test_ferplus_and_summary import write_votes
    from tests.train.conftest import tiny_faces

    faces = tiny_faces(n_select=80)
    rng = np.random.default_rng(0)
    majority = rng.integers(0, 8, len(faces))  # not the FER2013 labels: the fit must read the votes
    votes = np.zeros((len(faces), 10), int)
    votes[np.arange(len(faces)), majority] = 7
    votes[:, 8] = 3  # "unknown" votes: ignored by the majority
    for i, face in enumerate(faces.faces):
        face[0, 0] = majority[i]  # the fake recognizer reads the true class off the face
    csv_path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    votes_path = write_votes(tmp_path / "fer2013new.csv", faces.split_codes, votes)

    class FerplusRecognizer:
        class_names = FERPLUS_EMOTIONS

        def __init__(self, model):
            pass

        def predict_faces(self, faces):
            rows = np.full((len(faces), 8), 0.1 / 7)
            rows[np.arange(len(faces)), faces[:, 0, 0].astype(int)] = 0.9
            return rows

    def frames(recognizer, face, rng, count):
        row = np.full(8, 0.1 / 7)
        row[int(face[0, 0])] = 0.9
        return np.tile(row, (count, 1))

    monkeypatch.setattr(judge_fit, "Recognizer", FerplusRecognizer)
    monkeypatch.setattr(judge_fit, "frame_probabilities", frames)
    judge = judge_fit.fit_on_webcam_frames("model.onnx", csv_path, ferplus=votes_path)
    publictest = faces.split_codes == 1
    fitted = {FERPLUS_EMOTIONS[c] for c in range(8) if (majority[publictest] == c).sum() >= 5}
    assert fitted and set(judge.knots) == fitted
    for name in fitted:  # true faces at 0.9, the others at 0.014: median true face → MEDIAN_SCORE
        assert dict(judge.knots[name])[0.9] == MEDIAN_SCORE


def test_the_false_reward_bar_weighs_every_other_expression_the_same():
    """900 neutral faces that never look like fear and 100 surprise faces that often do: the bar is set so
    that the surprise faces, not the crowd of neutral ones, win at most the allowed share of fear rounds."""
    rng = np.random.default_rng(0)
    fear, surprise, neutral = (EMOTIONS.index(n) for n in ("fear", "surprise", "neutral"))
    labels = np.array([neutral] * 900 + [surprise] * 100 + [fear] * 100)
    probs = np.full((len(labels), len(EMOTIONS)), 0.01)
    probs[labels == neutral, fear] = rng.uniform(0.0, 0.1, 900)
    probs[labels == surprise, fear] = rng.uniform(0.0, 0.6, 100)
    probs[labels == fear, fear] = rng.uniform(0.3, 1.0, 100)
    judge = fit_judge(probs, labels, EMOTIONS, "synthetic")
    wins = np.array([judge.score("fear", p) >= WIN_SCORE for p in probs[:, fear]])
    per_class = [wins[labels == k].mean() for k in (neutral, surprise)]
    assert np.mean(per_class) <= FALSE_REWARD_RATE + 0.01
    assert per_class[1] < 0.25  # with the faces' own mix the bar would sit near 0.12: ~80% of surprise faces win


def test_a_bar_over_the_median_pose_can_drop_within_the_false_reward_cap():
    """Fear's median true face (0.35) sits under the 6% bar of other faces (~0.36): no 65 knot, a typical fear face
    scores ~50. With `true_above_bar` the bar drops to the 40th percentile true face (~0.32), which the 8% bar
    (~0.28) allows."""
    rng = np.random.default_rng(0)
    fear = EMOTIONS.index("fear")
    labels = np.arange(1400) % len(EMOTIONS)
    probs = rng.uniform(0, 0.15, (len(labels), len(EMOTIONS)))
    probs[labels == fear, fear] = rng.uniform(0.2, 0.5, (labels == fear).sum())
    others = labels != fear  # a tenth of the other faces look somewhat afraid (0.2-0.6), the rest do not
    probs[others, fear] = np.where(rng.random(others.sum()) < 0.1, rng.uniform(0.2, 0.6, others.sum()), 0.1)

    def fear_scores(policy: JudgePolicy) -> np.ndarray:
        judge = fit_judge(probs, labels, EMOTIONS, "synthetic", policy=policy)
        return np.array([judge.score("fear", p) for p in probs[:, fear]])

    today, lowered = fear_scores(JudgePolicy()), fear_scores(JudgePolicy(true_above_bar=0.6))
    assert np.median(today[labels == fear]) < WIN_SCORE + 2
    assert np.median(lowered[labels == fear]) == pytest.approx(MEDIAN_SCORE, abs=1)
    assert (lowered[labels != fear] >= WIN_SCORE).mean() <= 0.08 + 1e-9
    capped = fear_scores(JudgePolicy(true_above_bar=0.6, lowest_bar_rate=FALSE_REWARD_RATE))
    assert np.array_equal(capped, today)  # the cap at today's rate: the bar cannot move


def test_saved_evidence_refits_the_same_curves_through_the_cli(tmp_path):
    """calibrate-judge --save-evidence keeps the probabilities; --evidence refits from them without the pipeline."""
    from typer.testing import CliRunner

    from ferkit.cli import app
    from ferkit.infer.judge_fit import JudgeEvidence
    from ferkit.weights.onnx_classifier import OnnxClassifier

    probs, labels = confusable_probabilities()
    votes = np.zeros((len(labels), 10), np.uint8)
    votes[:, 0] = 7  # every face: 7 votes for FER+ neutral, so only the true neutral faces are clear
    evidence = JudgeEvidence(EMOTIONS, probs, probs, labels, votes)
    path = evidence.save(tmp_path / "evidence")  # no .npz suffix: the name is kept as given
    assert path.exists() and path.name == "evidence"
    loaded = JudgeEvidence.load(path)
    assert loaded.class_names == EMOTIONS and np.array_equal(loaded.held, probs)
    assert np.array_equal(loaded.votes, votes)
    assert np.array_equal(loaded.clear(), labels == EMOTIONS.index("neutral"))

    out = tmp_path / "judged.onnx"
    result = CliRunner().invoke(app, ["calibrate-judge", "--evidence", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    stored = JudgeCalibration.from_json(OnnxClassifier(out, rule="as-trained").metadata["judge_calibration"])
    assert stored.knots == evidence.fit().knots

    # the policy the shipped FER+ judge is fitted with: it travels in the curves' provenance
    args = ["calibrate-judge", "--evidence", str(path), "--out", str(out), "--true-above-bar", "0.6"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    stored = JudgeCalibration.from_json(OnnxClassifier(out, rule="as-trained").metadata["judge_calibration"])
    assert stored.knots == evidence.fit(JudgePolicy(true_above_bar=0.6)).knots
    assert "60% of true held poses" in stored.fitted_on

    # fold-models' poses of the folds they never saw join the fit (probe 10)
    unseen = np.arange(len(labels)) % 2 == 0
    fold = JudgeEvidence(EMOTIONS, probs, probs, labels, votes, unseen).save(tmp_path / "fold.npz")
    merged = tmp_path / "merged.npz"
    args = ["calibrate-judge", "--evidence", str(path), "--out", str(out), "--out-of-fold", str(fold)]
    result = CliRunner().invoke(app, [*args, "--save-evidence", str(merged)])
    assert result.exit_code == 0, result.output
    assert f"with {int(unseen.sum())} out-of-fold Training poses of 1 fold-models" in result.stdout
    stored = JudgeCalibration.from_json(OnnxClassifier(out, rule="as-trained").metadata["judge_calibration"])
    assert stored.knots == evidence.with_out_of_fold([JudgeEvidence.load(fold)]).fit().knots
    assert JudgeEvidence.load(merged).unseen_training.sum() == unseen.sum()  # saved merged, for judge_policies.py


def test_evidence_that_is_not_ours_is_refused_with_the_file_named(tmp_path):
    from ferkit.errors import ModelError
    from ferkit.infer.judge_fit import JudgeEvidence

    path = tmp_path / "other.npz"
    np.savez(path, held=np.zeros((2, 7)))
    with pytest.raises(ModelError, match=r"other\.npz"):
        JudgeEvidence.load(path)
    text = tmp_path / "notes.txt"  # not an archive at all: the same clear refusal, never a pickle prompt
    text.write_text("hello")
    with pytest.raises(ModelError, match=r"notes\.txt: not judge evidence") as refused:
        JudgeEvidence.load(text)
    assert "pickle" not in str(refused.value)


def test_the_median_clear_crop_earns_the_same_score_for_every_expression():
    """Clear faces (annotators agree) are surer for some expressions than others: the clear knot evens them out."""
    from ferkit.infer.judge import CLEAR_SCORE

    probs, labels = confusable_probabilities()
    rng = np.random.default_rng(1)
    crops = probs.copy()
    for c in range(len(EMOTIONS)):  # crops surer than frames, by a different amount for each class
        crops[labels == c, c] = np.clip(
            probs[labels == c, c] + 0.05 * c + rng.uniform(0, 0.1, (labels == c).sum()), 0, 1
        )
    clear = rng.uniform(size=len(labels)) < 0.5
    judge = fit_judge(probs, labels, EMOTIONS, "synthetic", crops, clear)
    checked = 0
    for c, name in enumerate(EMOTIONS):
        clear_crops = crops[(labels == c) & clear, c]
        # where the clear crops are surer than the win bar and the median held frame (not the indistinct classes)
        if name not in judge.knots:
            continue
        win = judge.knots[name][1][0]
        if max(win, np.median(probs[labels == c, c])) < np.median(clear_crops) < 0.999:
            checked += 1
            assert abs(np.median([judge.score(name, p) for p in clear_crops]) - CLEAR_SCORE) < 1.0, name
    assert checked >= 2


def test_a_plateau_puts_most_true_poses_near_the_median_score():
    """With `plateau=(0.3, 0.7)` the true held poses at those quantiles earn 60 and 70, so the middle 40% of a class's
    poses score 60-70 and a small shift of its poses moves its median score less; without it nothing changes."""
    probs, labels = confusable_probabilities()
    plain = fit_judge(probs, labels, EMOTIONS, "synthetic")
    assert fit_judge(probs, labels, EMOTIONS, "synthetic", policy=JudgePolicy(plateau=None)).knots == plain.knots
    gentle = fit_judge(probs, labels, EMOTIONS, "synthetic", policy=JudgePolicy(plateau=(0.3, 0.7), clear_score=None))
    for c, name in enumerate(EMOTIONS):
        true = probs[labels == c, c]
        low, median, high = np.quantile(true, [0.3, 0.5, 0.7])
        if gentle.knots[name][1][0] < low:  # the win bar under the low quantile: both plateau knots placed
            assert gentle.score(name, low) == pytest.approx(PLATEAU_SCORES[0], abs=0.01)
            assert gentle.score(name, median) == pytest.approx(MEDIAN_SCORE, abs=0.01)
            assert gentle.score(name, high) == pytest.approx(PLATEAU_SCORES[1], abs=0.01)
            scores = np.array([gentle.score(name, p) for p in true])
            assert ((scores >= 60 - 1e-9) & (scores <= 70 + 1e-9)).mean() >= 0.39


def test_with_clear_first_the_plateau_never_displaces_the_clear_crops_knot():
    """Where the true poses' high quantile lies past the median clear crop (the model no surer of clear crops than of
    frames), `clear_first` keeps the 85 knot and drops the plateau's 70 one."""
    probs, labels = confusable_probabilities()
    crops = np.clip(probs + 0.02, 0, 1)  # crops hardly surer than the frames: the clear knot falls in the plateau
    clear = np.ones(len(labels), bool)
    policy = JudgePolicy(plateau=(0.3, 0.7), clear_first=True)
    judge = fit_judge(probs, labels, EMOTIONS, "synthetic", crops, clear, policy)
    for c, name in enumerate(EMOTIONS):
        clear_median = float(np.median(crops[labels == c, c]))
        median = float(np.median(probs[labels == c, c]))
        if judge.knots[name][1][0] < median:  # a median knot, then the clear one 0.02 right of it
            assert judge.score(name, median) == pytest.approx(MEDIAN_SCORE, abs=0.01)
            assert judge.score(name, clear_median) == pytest.approx(CLEAR_SCORE, abs=0.01)
        without = fit_judge(probs, labels, EMOTIONS, "synthetic", crops, clear, JudgePolicy(plateau=(0.3, 0.7)))
        assert all(score != CLEAR_SCORE for _, score in without.knots[name])  # the plateau's 70 knot came first


def test_population_knots_place_the_median_knot_where_the_unseen_faces_median_lies(tmp_path):
    """Probe 15: a fold-model whose unseen faces are surer of happy than its PublicTest faces puts happy's median
    knot at a higher PublicTest quantile; the curve then gives the unseen median pose 65, and the bars do not move."""
    from typer.testing import CliRunner

    from ferkit.cli import app
    from ferkit.infer.judge_fit import JudgeEvidence, population_knots
    from ferkit.weights.onnx_classifier import OnnxClassifier

    probs, labels = confusable_probabilities(n=1400)
    happy = EMOTIONS.index("happy")
    unseen = np.arange(len(labels)) >= 700
    shifted = probs.copy()
    true_unseen = unseen & (labels == happy)
    shifted[true_unseen, happy] = np.quantile(probs[~unseen & (labels == happy), happy], 0.75)
    fold = JudgeEvidence(EMOTIONS, shifted, shifted, labels, None, unseen)
    quantiles = {name: (held_q, clear_q) for name, held_q, clear_q in population_knots([fold])}
    assert quantiles["happy"][0] == pytest.approx(0.75, abs=0.02)
    assert abs(quantiles["fear"][0] - 0.5) < 0.15  # alike elsewhere (two samples of the same faces' law)

    public = ~unseen
    policy = JudgePolicy(knot_quantiles=population_knots([fold]))
    moved = fit_judge(shifted[public], labels[public], EMOTIONS, "synthetic", policy=policy)
    plain = fit_judge(shifted[public], labels[public], EMOTIONS, "synthetic")
    unseen_median = float(np.median(shifted[true_unseen, happy]))
    assert moved.score("happy", unseen_median) == pytest.approx(MEDIAN_SCORE, abs=0.5)
    assert plain.score("happy", unseen_median) > MEDIAN_SCORE + 2
    assert all(moved.knots[n][1] == plain.knots[n][1] for n in EMOTIONS if n in plain.knots)  # the bars

    with pytest.raises(Exception, match="held a Training fold out"):
        population_knots([JudgeEvidence(EMOTIONS, probs, probs, labels)])

    # through the CLI: the quantiles travel into the curves and their provenance
    path = JudgeEvidence(EMOTIONS, shifted[public], shifted[public], labels[public]).save(tmp_path / "e.npz")
    fold_path = fold.save(tmp_path / "fold.npz")
    out = tmp_path / "judged.onnx"
    args = ["calibrate-judge", "--evidence", str(path), "--out", str(out), "--population-knots", str(fold_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    stored = JudgeCalibration.from_json(OnnxClassifier(out, rule="as-trained").metadata["judge_calibration"])
    assert stored.knots == moved.knots and "fold-models' unseen faces" in stored.fitted_on
