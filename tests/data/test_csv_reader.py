"""Every csv layout reads back exactly what was written, with and without the compiled parser."""

from __future__ import annotations

import numpy as np
import pytest

from ferkit.data import DataError, load_faces
from ferkit.data import _csv_kernels as kernels
from tests.conftest import make_faces, pixel_text, write_fer2013_csv, write_icml_csv


@pytest.fixture(params=["numba", "numpy"])
def parser(request, monkeypatch):
    if request.param == "numba" and not kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed (the `data` extra)")
    if request.param == "numpy":
        monkeypatch.setattr(kernels, "HAVE_NUMBA", False)
    return request.param


def assert_same(got, want):
    np.testing.assert_array_equal(got.faces, want.faces)
    np.testing.assert_array_equal(got.labels, want.labels)
    np.testing.assert_array_equal(got.split_codes, want.split_codes)


def test_fer2013_csv_round_trip(tmp_path, faces, parser):
    got = load_faces(write_fer2013_csv(tmp_path / "fer2013.csv", faces), cache=False)
    assert_same(got, faces)
    assert got.split_names == ["Training", "PublicTest", "PrivateTest"]


def test_windows_line_endings_and_blank_lines(tmp_path, faces, parser):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", faces, newline="\r\n")
    path.write_bytes(path.read_bytes() + b"\r\n\r\n")
    assert_same(load_faces(path, cache=False), faces)


def test_quoted_pixels(tmp_path, faces, parser):
    lines = ["emotion,pixels,Usage"] + [
        f'{lab},"{pixel_text(f)}",Training' for f, lab in zip(faces.faces, faces.labels)
    ]
    (tmp_path / "q.csv").write_text("\n".join(lines) + "\n")
    got = load_faces(tmp_path / "q.csv", cache=False)
    np.testing.assert_array_equal(got.faces, faces.faces)


def test_icml_layout_with_spaces_in_header(tmp_path, faces, parser):
    assert_same(load_faces(write_icml_csv(tmp_path / "icml_face_data.csv", faces), cache=False), faces)


def test_train_and_test_csv_in_one_folder(tmp_path, faces, parser):
    train = faces.split("Training")
    test = faces.subset(faces.split_codes > 0)
    (tmp_path / "train.csv").write_text(
        "emotion,pixels\n" + "".join(f"{lab},{pixel_text(f)}\n" for f, lab in zip(train.faces, train.labels))
    )
    (tmp_path / "test.csv").write_text("pixels\n" + "".join(f"{pixel_text(f)}\n" for f in test.faces))
    got = load_faces(tmp_path, cache=False)
    assert got.split_names == ["Training", "Test"]
    np.testing.assert_array_equal(got.split("Training").faces, train.faces)
    np.testing.assert_array_equal(got.split("Training").labels, train.labels)
    unlabelled = got.split("Test")
    np.testing.assert_array_equal(unlabelled.faces, test.faces)
    assert (unlabelled.labels == -1).all()
    assert not got.has_labels


BAD_ROWS = {
    "2303 pixels": (lambda px: px.rsplit(" ", 1)[0], "expected 2304 pixel values (48×48), found 2303"),
    "pixel 256": (lambda px: "256" + px[px.index(" ") :], "pixel 1 is '256'; expected an integer from 0 to 255"),
    "pixel abc": (lambda px: px[: px.index(" ")] + " abc" + px[px.index(" ") :], "pixel 2 is 'abc'"),
    # both parsers refuse a zero-padded pixel, and the message says why (it used to say "could not be parsed")
    "pixel 0058": (
        lambda px: px[: px.index(" ")] + " 0058" + px[px.index(" ") :],
        "pixel 2 is '0058'; expected an integer from 0 to 255, at most 3 digits",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_bad_pixels_name_file_line_and_problem(tmp_path, parser, case):
    faces = make_faces(5)
    path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    lines = path.read_text().splitlines()
    label, pixels, usage = lines[3].split(",")
    corrupt, expected = BAD_ROWS[case]
    lines[3] = f"{label},{corrupt(pixels)},{usage}"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        load_faces(path)
    assert str(err.value).startswith(f"{path}, line 4: ")
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("9,{px},Training", "emotion is '9'; expected an integer from 0 to 6"),
        ("x,{px},Training", "emotion is 'x'"),
        ("3,{px},Validation", "Usage is 'Validation'; expected one of Training, PublicTest, PrivateTest"),
        ("3,{px}", "expected 3 comma-separated fields, found 2"),
        ("3,{px},Training,extra", "expected 3 comma-separated fields, found 4"),
    ],
)
def test_bad_label_usage_and_fields(tmp_path, parser, row, expected):
    faces = make_faces(3)
    path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    lines = path.read_text().splitlines()
    lines.append(row.format(px=pixel_text(faces.faces[0])))
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=f"line 5: {expected}"):
        load_faces(path)


def test_wrong_header(tmp_path, parser):
    (tmp_path / "x.csv").write_text("label,image\n1,2\n")
    with pytest.raises(DataError, match=r"x\.csv, line 1: unexpected header 'label,image'; expected 'emotion,pixels"):
        load_faces(tmp_path / "x.csv")


def test_ferplus_file_passed_as_faces_gets_a_hint(tmp_path):
    (tmp_path / "fer2013new.csv").write_text("Usage,Image name,neutral\nTraining,fer0.png,1\n")
    with pytest.raises(DataError, match="FER\\+ votes file"):
        load_faces(tmp_path / "fer2013new.csv")


def test_empty_file_and_header_only(tmp_path, parser):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty"):
        load_faces(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("emotion,pixels,Usage\n")
    with pytest.raises(DataError, match="header but no rows"):
        load_faces(tmp_path / "header.csv")


def test_missing_path():
    with pytest.raises(DataError, match="no such file"):
        load_faces("/nonexistent/fer2013.csv")
