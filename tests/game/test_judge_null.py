"""`benchmarks/judge_null.py`: the yardstick's spread with no split difference, on synthetic evidence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from ferkit.infer.judge_fit import JudgeEvidence
from ferkit.labels import EMOTIONS

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def evidence(tmp_path: Path, faces_per_class: int) -> Path:
    """Every class alike: true faces' own probability uniform on 0.3-0.9, other faces' on 0-0.3."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(len(EMOTIONS)), faces_per_class)
    probs = rng.uniform(0, 0.3, (len(labels), len(EMOTIONS)))
    probs[np.arange(len(labels)), labels] = rng.uniform(0.3, 0.9, len(labels))
    votes = np.zeros((len(labels), 10), np.uint8)
    return JudgeEvidence(EMOTIONS, probs, probs, labels, votes).save(tmp_path / "evidence.npz")


def spreads(tmp_path: Path, faces_per_class: int, score_size: int) -> list[str]:
    sizes = ",".join([str(score_size)] * len(EMOTIONS))
    script, path = str(BENCHMARKS / "judge_null.py"), str(evidence(tmp_path, faces_per_class))
    game = "60% of true poses clear the bar"
    out = subprocess.run(
        [sys.executable, script, path, "--sizes", sizes, "--draws", "40", "--policy", game],
        capture_output=True,
        text=True,
        check=True,
        cwd=BENCHMARKS,
    ).stdout
    (line,) = [line for line in out.splitlines() if "frames (b)" in line]
    return line.split()


def test_alike_classes_read_within_10_when_the_samples_are_large_and_not_when_they_are_tiny(tmp_path):
    large = spreads(tmp_path, 600, 400)
    assert int(large[large.index("(b)") + 1]) <= 5  # the median spread: sampling alone, on hundreds of faces
    tiny = spreads(tmp_path, 20, 15)
    assert int(tiny[tiny.index("(b)") + 1]) > int(large[large.index("(b)") + 1])
