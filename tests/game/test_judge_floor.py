"""The fairness yardstick's floor: an ideal judge's spread at a split's sizes (benchmarks/judge_policies.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ferkit.labels import EMOTIONS


def test_the_floor_widens_as_a_class_gets_few_faces(capsys):
    sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
    from judge_policies import floor

    from ferkit.infer.judge_fit import JudgeEvidence

    rng = np.random.default_rng(0)
    labels = np.arange(7000) % len(EMOTIONS)
    probs = rng.uniform(0, 0.2, (len(labels), len(EMOTIONS)))
    probs[np.arange(len(labels)), labels] = rng.uniform(0.3, 1.0, len(labels))  # every class well separated
    evidence = JudgeEvidence(EMOTIONS, probs, probs, labels)

    many = floor(evidence, [400] * len(EMOTIONS), draws=300)
    few = floor(evidence, [400] * 5 + [5, 400], draws=300)  # one class with 5 faces, as disgust's 18
    assert (many <= 10).mean() == 1.0 and np.median(many) <= 4  # every median near its 65 knot
    assert np.median(few) > np.median(many) and (few <= 10).mean() < 1.0
    # a judge passed in is used as it is: the same curves give the same floor
    same = floor(evidence, [400] * len(EMOTIONS), judge=evidence.fit(), draws=300)
    np.testing.assert_array_equal(same, many)
    assert "≤ 10 in" in capsys.readouterr().out
