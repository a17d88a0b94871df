"""The teacher files committed in teachers/: small, never PrivateTest, documented, and made for the real FER2013."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ferkit.data import load_faces
from ferkit.data.teacher import faceset_digest, read_teacher
from ferkit.labels import SPLITS
from tests.conftest import FER2013_TARBALL

ROOT = Path(__file__).resolve().parents[2]
TEACHERS = sorted((ROOT / "teachers").glob("*.npz"))


def test_there_are_committed_teachers():
    assert len(TEACHERS) >= 4


@pytest.mark.parametrize("path", TEACHERS, ids=lambda p: p.name)
def test_teacher_is_small_documented_and_holds_no_privatetest(path):
    teacher = read_teacher(path)
    assert path.stat().st_size < 1_000_000
    assert teacher.probabilities.dtype == np.float16
    assert SPLITS.index("PrivateTest") not in set(teacher.split_codes.tolist())
    np.testing.assert_allclose(teacher.mean_probabilities.sum(1), 1, atol=0.01)
    assert f"teachers/{path.name}" in (ROOT / "docs" / "knowledge.md").read_text()


@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
def test_teachers_were_made_for_the_real_fer2013():
    digest = faceset_digest(load_faces(FER2013_TARBALL))
    assert {read_teacher(path).dataset_sha256 for path in TEACHERS} == {digest}
