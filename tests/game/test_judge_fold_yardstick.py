"""`benchmarks/judge_fold_yardstick.py`: judges fitted on PublicTest rows, scored on each fold's unseen rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from ferkit.infer.judge_fit import JudgeEvidence
from ferkit.labels import EMOTIONS

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
PUBLIC, UNSEEN = 300, 300  # faces a class in each part


def fold_evidence(path: Path, seed: int, unseen_boost: dict[int, float]) -> Path:
    """Every class alike (own probability 0.3-0.9, others 0-0.3); `unseen_boost` lifts a class on the fold only."""
    rng = np.random.default_rng(seed)
    labels = np.tile(np.repeat(np.arange(len(EMOTIONS)), PUBLIC), 2)
    unseen = np.arange(len(labels)) >= PUBLIC * len(EMOTIONS)
    probs = rng.uniform(0, 0.3, (len(labels), len(EMOTIONS)))
    own = rng.uniform(0.3, 0.9, len(labels))
    for c, boost in unseen_boost.items():
        own[unseen & (labels == c)] += boost
    probs[np.arange(len(labels)), labels] = np.minimum(own, 1.0)
    votes = np.zeros((len(labels), 10), np.uint8)
    return JudgeEvidence(EMOTIONS, probs, probs, labels, votes, unseen).save(path)


def run(*paths: Path) -> subprocess.CompletedProcess:
    script = str(BENCHMARKS / "judge_fold_yardstick.py")
    return subprocess.run(
        [sys.executable, script, *map(str, paths), "--boot", "50"], capture_output=True, text=True, cwd=BENCHMARKS
    )


def pooled_frames_spread(out: str) -> float:
    (line,) = [line for line in out.splitlines() if line.startswith("frames (b) spread")]
    return float(line.split()[3])


def test_alike_folds_read_even_and_a_shifted_class_reads_high(tmp_path):
    alike = [fold_evidence(tmp_path / f"alike{k}.npz", k, {}) for k in range(2)]
    result = run(*alike)
    assert result.returncode == 0, result.stderr
    assert pooled_frames_spread(result.stdout) <= 5
    neutral = EMOTIONS.index("neutral")
    shifted = [fold_evidence(tmp_path / f"shifted{k}.npz", k, {neutral: 0.1}) for k in range(2)]
    out = run(*shifted).stdout
    assert pooled_frames_spread(out) >= 10
    (row,) = [line for line in out.splitlines() if line.startswith("neutral ")]
    assert int(row.split()[1]) > 70  # the fold's neutral faces score above the 65 their PublicTest median got


def test_evidence_without_unseen_rows_is_refused_with_a_reason(tmp_path):
    path = JudgeEvidence(EMOTIONS, np.eye(7)[[0] * 7], np.eye(7)[[0] * 7], np.zeros(7, int)).save(tmp_path / "e.npz")
    result = run(path)
    assert result.returncode != 0 and "unseen Training rows" in result.stderr
