"""Kaggle's archives and image-folder copies read back the same faces; broken ones are named."""

from __future__ import annotations

import io
import tarfile
import zipfile

import cv2
import numpy as np
import pytest

from ferkit.data import DataError, load_faces
from ferkit.labels import EMOTIONS, SPLITS
from tests.conftest import write_fer2013_csv


def make_tarball(tmp_path, faces):
    csv_path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    tarball = tmp_path / "fer2013.tar.gz"
    with tarfile.open(tarball, "w:gz") as tf:
        tf.add(csv_path, arcname="fer2013/fer2013.csv")
    csv_path.unlink()
    return tarball


def test_tarball_read_without_extracting(tmp_path, faces):
    got = load_faces(make_tarball(tmp_path, faces))
    np.testing.assert_array_equal(got.faces, faces.faces)
    np.testing.assert_array_equal(got.labels, faces.labels)
    assert list(tmp_path.iterdir()) == [tmp_path / "fer2013.tar.gz"]


def test_kaggle_competition_zip_wrapping_the_tarball(tmp_path, faces):
    tarball = make_tarball(tmp_path, faces)
    with zipfile.ZipFile(tmp_path / "competition.zip", "w") as zf:
        zf.write(tarball, "fer2013.tar.gz")
        zf.writestr("example_submission.csv", "id\n")
    got = load_faces(tmp_path / "competition.zip")
    np.testing.assert_array_equal(got.faces, faces.faces)


def test_truncated_archive_is_named(tmp_path, faces):
    tarball = make_tarball(tmp_path, faces)
    data = tarball.read_bytes()
    tarball.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"fer2013\.tar\.gz: the archive is truncated"):
        load_faces(tarball)


def test_archive_without_csv(tmp_path):
    with tarfile.open(tmp_path / "other.tar.gz", "w:gz") as tf:
        info = tarfile.TarInfo("readme.txt")
        tf.addfile(info, io.BytesIO(b""))
    with pytest.raises(DataError, match="no FER2013 csv inside"):
        load_faces(tmp_path / "other.tar.gz")


def write_folders(root, faces, *, upscale=1, color=False, prefix_names=True, ext=".png"):
    top = {0: "train", 1: "test", 2: "test"}
    for i, (face, label, split) in enumerate(zip(faces.faces, faces.labels, faces.split_codes)):
        folder = root / top[int(split)] / EMOTIONS[label].upper()  # class folder names in any case
        folder.mkdir(parents=True, exist_ok=True)
        img = cv2.resize(face, (48 * upscale, 48 * upscale), interpolation=cv2.INTER_NEAREST)
        if color:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        name = f"{SPLITS[split]}_{i:05d}{ext}" if prefix_names else f"{i:05d}{ext}"
        cv2.imwrite(str(folder / name), img)


def test_image_folders_split_from_file_names(tmp_path, faces):
    write_folders(tmp_path, faces)
    got = load_faces(tmp_path)
    for split in ("Training", "PublicTest", "PrivateTest"):
        assert got.split(split).class_counts() == faces.split(split).class_counts()
    # lossless PNG at 48×48: the very same pixels come back (order: split folder, class, name)
    order = np.lexsort((np.arange(len(faces)), faces.labels, faces.split_codes > 0))
    np.testing.assert_array_equal(
        np.sort(got.faces.reshape(len(got), -1), axis=0), np.sort(faces.faces[order].reshape(len(faces), -1), axis=0)
    )


def test_image_folders_any_size_and_colour(tmp_path, faces):
    write_folders(tmp_path, faces, upscale=4, color=True, prefix_names=False, ext=".jpg")
    got = load_faces(tmp_path)
    assert got.faces.shape == (len(faces), 48, 48) and got.faces.dtype == np.uint8
    assert got.split_names == ["Training", "Test"]  # no name prefixes: test/ is the unlabelled-by-split Test


def test_unreadable_image_is_named(tmp_path, faces):
    write_folders(tmp_path, faces)
    bad = tmp_path / "train" / "HAPPY" / "broken.jpg"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(DataError, match=r"broken\.jpg: not a readable image"):
        load_faces(tmp_path)


def test_unknown_class_folder_is_named(tmp_path, faces):
    write_folders(tmp_path, faces)
    (tmp_path / "train" / "bored").mkdir()
    with pytest.raises(DataError, match=r"bored: not a class folder"):
        load_faces(tmp_path)


def test_every_registered_layout_is_named_when_nothing_matches(tmp_path):
    from ferkit.data.layouts import LAYOUTS, layout_of

    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="no FER2013 data found") as error:
        layout_of(tmp_path)
    for entry in LAYOUTS:
        assert entry.description in str(error.value)
