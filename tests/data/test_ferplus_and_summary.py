"""FER+ votes join and label rules; the duplicate/leakage summary of `data info`."""

from __future__ import annotations

import numpy as np
import pytest

from ferkit.data import DataError, ferplus_distribution, ferplus_majority, load_faces, not_a_face
from ferkit.data.faceset import FaceSet
from ferkit.data.summary import seen_in, summarize
from ferkit.labels import SPLITS
from tests.conftest import write_fer2013_csv

HEADER = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"


def write_votes(path, splits, votes):
    rows = [HEADER] + [
        f"{SPLITS[s]},fer{i:07d}.png," + ",".join(map(str, v)) for i, (s, v) in enumerate(zip(splits, votes))
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_votes_join_row_by_row(tmp_path, faces):
    votes = np.random.default_rng(0).integers(0, 5, size=(len(faces), 10))
    csv_path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    got = load_faces(csv_path, ferplus=write_votes(tmp_path / "fer2013new.csv", faces.split_codes, votes))
    np.testing.assert_array_equal(got.votes, votes)


def test_misaligned_votes_are_refused(tmp_path, faces):
    csv_path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    short = write_votes(tmp_path / "short.csv", faces.split_codes[:-1], np.ones((len(faces) - 1, 10), int))
    with pytest.raises(DataError, match="rows but"):
        load_faces(csv_path, ferplus=short)
    swapped = faces.split_codes.copy()
    swapped[[0, -1]] = swapped[[-1, 0]]
    wrong = write_votes(tmp_path / "wrong.csv", swapped, np.ones((len(faces), 10), int))
    with pytest.raises(DataError, match="not aligned"):
        load_faces(csv_path, ferplus=wrong)


def test_majority_rules_of_the_ferplus_paper():
    votes = np.array(
        [
            [6, 2, 1, 1, 0, 0, 0, 0, 0, 0],  # neutral clear majority -> 0
            [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],  # single votes are noise -> nothing left -> dropped
            [0, 4, 4, 0, 0, 0, 0, 2, 0, 0],  # no class above half -> dropped
            [0, 0, 0, 0, 0, 0, 0, 0, 3, 7],  # not a face -> dropped
            [2, 0, 0, 0, 0, 0, 0, 0, 8, 0],  # unknown -> dropped
            [0, 0, 0, 0, 0, 0, 0, 9, 1, 0],  # contempt (single 'unknown' vote removed) -> 7
            [3, 0, 5, 0, 0, 0, 0, 1, 1, 0],  # the single votes go; 5 of 8 -> surprise
        ]
    )
    np.testing.assert_array_equal(ferplus_majority(votes), [0, -1, -1, -1, -1, 7, 2])
    dist = ferplus_distribution(votes)
    np.testing.assert_allclose(dist.sum(axis=1)[[0, 2, 5]], 1.0)
    assert dist[3].sum() == 0
    np.testing.assert_array_equal(not_a_face(votes), [0, 0, 0, 1, 0, 0, 0])


def test_summary_counts_duplicates_within_and_across_splits():
    faces = np.zeros((6, 48, 48), np.uint8)
    faces[0] = faces[1] = 10  # two copies inside Training
    faces[2] = faces[4] = 20  # Training and PublicTest share a face, with different labels
    faces[3], faces[5] = 30, 40
    fs = FaceSet(faces, np.array([0, 0, 1, 2, 3, 4], np.int8), np.array([0, 0, 0, 0, 1, 2], np.uint8))
    dup = summarize(fs)["duplicates"]
    assert dup["groups"] == 2 and dup["faces_in_groups"] == 4
    assert dup["extra_copies_within_split"] == {"Training": 1, "PublicTest": 0, "PrivateTest": 0}
    assert dup["groups_shared_across_splits"] == {"Training/PublicTest": 1}
    assert dup["groups_with_conflicting_labels"] == 1


def test_seen_in_marks_exact_copies_only():
    rng = np.random.default_rng(1)
    training = rng.integers(0, 256, (6, 4, 4), dtype=np.uint8)
    tests = np.stack([training[2], training[2] ^ 1, rng.integers(0, 256, (4, 4), dtype=np.uint8), training[5]])
    assert seen_in(tests, training).tolist() == [True, False, False, True]


def test_asking_a_ferplus_dataset_for_its_test_split_names_the_fer2013_split(faces):
    from dataclasses import replace

    from ferkit.data.label_space import split_with_labels
    from ferkit.labels import FERPLUS_EMOTIONS

    with_votes = replace(faces, votes=np.zeros((len(faces), 10), np.uint8))
    with pytest.raises(ValueError, match=r"no Test split \(FER\+ Valid is PublicTest and FER\+ Test is PrivateTest\)"):
        split_with_labels(with_votes, "Test", FERPLUS_EMOTIONS)


def test_ferplus_probabilities_map_to_fer2013_classes_without_contempt():
    from ferkit.data.label_space import in_fer2013_classes
    from ferkit.errors import DatasetUnsuitable
    from ferkit.labels import EMOTIONS, FERPLUS_EMOTIONS

    plus = np.zeros((1, len(FERPLUS_EMOTIONS)))
    plus[0, FERPLUS_EMOTIONS.index("happiness")] = 0.6
    plus[0, FERPLUS_EMOTIONS.index("contempt")] = 0.2
    plus[0, FERPLUS_EMOTIONS.index("anger")] = 0.2
    mapped = in_fer2013_classes(plus, FERPLUS_EMOTIONS)
    assert mapped.shape == (1, len(EMOTIONS))
    assert mapped[0, EMOTIONS.index("happy")] == pytest.approx(0.75)  # contempt's 0.2 left out, renormalised
    assert mapped[0, EMOTIONS.index("angry")] == pytest.approx(0.25)
    same = np.full((2, len(EMOTIONS)), 1 / len(EMOTIONS))
    assert in_fer2013_classes(same, EMOTIONS) is same
    with pytest.raises(DatasetUnsuitable, match="only FER2013's or FER"):
        in_fer2013_classes(same, ("a", "b"))
