"""`ferkit data reframe`: only Training rows change; rows, labels and votes stay aligned."""

from __future__ import annotations

import numpy as np
import pytest

import ferkit.vision.detectors as detectors
from ferkit.cli.data_commands import reframe_training
from ferkit.data.faceset import FaceSet
from ferkit.errors import BadInput
from ferkit.labels import SPLITS
from ferkit.vision.detect import FaceBox
from tests.conftest import FER2013_TARBALL
from tests.train.conftest import tiny_faces


class EveryOtherFrame:
    """Finds a box in the middle of every other frame, so some faces are missed."""

    fer_framing = 1.0

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, frame, **_):
        self.calls += 1
        return [FaceBox(250, 150, 140, 140, 0.99)] if self.calls % 2 else []


def with_votes(faces: FaceSet) -> FaceSet:
    votes = np.random.default_rng(0).integers(0, 10, (len(faces), 10)).astype(np.uint8)
    return FaceSet(faces.faces, faces.labels, faces.split_codes, votes, "tiny")


def test_only_training_faces_change_and_everything_stays_aligned(monkeypatch):
    monkeypatch.setattr(detectors, "create_detector", lambda name: EveryOtherFrame())
    faces = with_votes(tiny_faces())
    reframed, replaced, chosen = reframe_training(faces, 0.5, jobs=1)
    training = faces.split_codes == SPLITS.index("Training")
    assert chosen == round(0.5 * training.sum()) and 0 < replaced < chosen  # every other frame: a miss
    changed = (reframed.faces != faces.faces).any(axis=(1, 2))
    assert changed.sum() == replaced and not changed[~training].any()  # test splits untouched
    assert np.array_equal(reframed.labels, faces.labels) and np.array_equal(reframed.votes, faces.votes)
    assert np.array_equal(reframed.split_codes, faces.split_codes)
    again, _, _ = reframe_training(faces, 0.5, jobs=1)  # the same seed: the same faces and frames
    assert np.array_equal(again.faces, reframed.faces)


def test_a_share_outside_zero_to_one_is_refused():
    with pytest.raises(BadInput, match="share"):
        reframe_training(tiny_faces(), 1.5, jobs=1)


@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
def test_the_cli_writes_a_pack_of_real_detector_crops_that_loads_back(tmp_path):
    """Real faces, the real MTCNN, two processes; the pack keeps every split and reads back as a dataset."""
    from typer.testing import CliRunner

    from ferkit.cli import app
    from ferkit.data import load_faces
    from tests.conftest import write_fer2013_csv

    real = load_faces(FER2013_TARBALL)
    pick = np.concatenate([np.flatnonzero(real.split_codes == k)[:n] for k, n in ((0, 12), (1, 4), (2, 4))])
    small = write_fer2013_csv(tmp_path / "small.csv", real.subset(np.sort(pick)))
    out = tmp_path / "reframed.ferpack.xz"
    result = CliRunner().invoke(app, ["data", "reframe", str(small), "--out", str(out), "--share", "1", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert "of 12 chosen Training faces re-framed" in result.output
    back, original = load_faces(out), load_faces(small)
    assert back.split_names == original.split_names and np.array_equal(back.labels, original.labels)
    changed = (back.faces != original.faces).any(axis=(1, 2))
    assert changed[back.split_codes == 0].sum() >= 9  # MTCNN finds nearly every face
    assert not changed[back.split_codes != 0].any()
