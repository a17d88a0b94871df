"""On the real FER2013 in ../shared/data: the published per-split counts, from three layouts."""

from __future__ import annotations

import json

import cv2
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


@pytest.fixture(scope="module")
def fer2013():
    return load_faces(FER2013_TARBALL)


def test_data_info_json_prints_the_published_counts():
    result = CliRunner().invoke(app, ["data", "info", str(FER2013_TARBALL), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["class_counts"] == expected_counts()
    assert info["rows_per_split"] == {"Training": 28709, "PublicTest": 3589, "PrivateTest": 3589}


def test_icml_copy_gives_the_same_counts(tmp_path, fer2013):
    with open(tmp_path / "icml_face_data.csv", "w") as f:
        f.write("emotion, Usage, pixels\n")
        for face, label, split in zip(fer2013.faces, fer2013.labels, fer2013.split_codes):
            f.write(f"{label}, {SPLITS[split]}, {pixel_text(face)}\n")
    copy = load_faces(tmp_path / "icml_face_data.csv")
    assert {s: copy.split(s).class_counts() for s in copy.split_names} == expected_counts()
    assert (copy.faces == fer2013.faces).all()


def test_image_folder_copy_gives_the_same_counts(tmp_path, fer2013):
    # Kaggle's folder copy: train/<class>/Training_N.jpg and test/<class>/{PublicTest,PrivateTest}_N.jpg
    for i, (face, label, split) in enumerate(zip(fer2013.faces, fer2013.labels, fer2013.split_codes)):
        folder = tmp_path / ("train" if split == 0 else "test") / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{SPLITS[split]}_{i}.jpg"), face)
    copy = load_faces(tmp_path)
    assert {s: copy.split(s).class_counts() for s in copy.split_names} == expected_counts()


@pytest.mark.skipif(not FERPLUS_CSV.exists(), reason=f"FER+ votes not found at {FERPLUS_CSV}")
def test_ferplus_votes_join_the_real_file(fer2013):
    joined = load_faces(FER2013_TARBALL, ferplus=FERPLUS_CSV)
    assert joined.votes.shape == (35887, 10)
    assert (joined.votes.sum(axis=1) == 10).mean() > 0.99  # ten annotators per face
