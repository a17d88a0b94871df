"""On the real FER2013 in ../shared/data: the published per-split counts, and two more layouts that parse the same.

The layout copies hold every 8th face (all classes in every split): writing all 35,887 took 48 s of CI.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.data import load_faces
from ferkit.labels import EMOTIONS, SPLITS
from tests.conftest import FER2013_TARBALL, FERPLUS_CSV, pixel_text

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}"),
]

# From ../shared/data/README.md (angry, disgust, fear, happy, sad, surprise, neutral).
PUBLISHED = {
    "Training": [3994, 437, 4098, 7216, 4831, 3169, 4964],
    "PublicTest": [467, 56, 496, 895, 653, 415, 607],
    "PrivateTest": [491, 55, 528, 879, 594, 416, 626],
}


def expected_counts():
    return {split: dict(zip(EMOTIONS, counts)) for split, counts in PUBLISHED.items()}


EVERY = 8  # the layout copies hold faces 0, 8, 16, ...


@pytest.fixture(scope="module")
def fer2013():
    return load_faces(FER2013_TARBALL)


@pytest.fixture(scope="module")
def sample(fer2013):
    """Every EVERY-th face of the real dataset, and its per-split class counts."""
    faces = fer2013.subset(np.arange(0, len(fer2013.labels), EVERY))
    return faces, {s: faces.split(s).class_counts() for s in faces.split_names}


def test_data_info_json_prints_the_published_counts():
    result = CliRunner().invoke(app, ["data", "info", str(FER2013_TARBALL), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["class_counts"] == expected_counts()
    assert info["rows_per_split"] == {"Training": 28709, "PublicTest": 3589, "PrivateTest": 3589}


def test_icml_copy_gives_the_same_faces(tmp_path, sample):
    faces, counts = sample
    with open(tmp_path / "icml_face_data.csv", "w") as f:
        f.write("emotion, Usage, pixels\n")
        for face, label, split in zip(faces.faces, faces.labels, faces.split_codes):
            f.write(f"{label}, {SPLITS[split]}, {pixel_text(face)}\n")
    copy = load_faces(tmp_path / "icml_face_data.csv")
    assert {s: copy.split(s).class_counts() for s in copy.split_names} == counts
    assert (copy.faces == faces.faces).all()


def test_image_folder_copy_gives_the_same_counts(tmp_path, sample):
    faces, counts = sample
    assert min(min(c.values()) for c in counts.values()) > 0  # every class in every split
    # Kaggle's folder copy: train/<class>/Training_N.jpg and test/<class>/{PublicTest,PrivateTest}_N.jpg
    for i, (face, label, split) in enumerate(zip(faces.faces, faces.labels, faces.split_codes)):
        folder = tmp_path / ("train" if split == 0 else "test") / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{SPLITS[split]}_{i}.jpg"), face)
    copy = load_faces(tmp_path)
    assert {s: copy.split(s).class_counts() for s in copy.split_names} == counts


@pytest.mark.skipif(not FERPLUS_CSV.exists(), reason=f"FER+ votes not found at {FERPLUS_CSV}")
def test_ferplus_votes_join_the_real_file(fer2013):
    joined = load_faces(FER2013_TARBALL, ferplus=FERPLUS_CSV)
    assert joined.votes.shape == (35887, 10)
    assert (joined.votes.sum(axis=1) == 10).mean() > 0.99  # ten annotators per face
