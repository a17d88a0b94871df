"""The parse-once cache: hits return the same data, any change to the source is a miss, no partial entries."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from ferkit.data import DataError, load_faces
from ferkit.data import load as load_module
from tests.conftest import make_faces, write_fer2013_csv


def entries(cache_dir):
    return sorted(p.name for p in cache_dir.glob("faces-*"))


def test_second_load_comes_from_cache(tmp_path, faces, private_cache, monkeypatch):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    first = load_faces(path)
    assert len(entries(private_cache)) == 1

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again instead of using the cache")

    monkeypatch.setattr(load_module, "_read", no_parsing)
    second = load_faces(path)
    np.testing.assert_array_equal(second.faces, first.faces)
    np.testing.assert_array_equal(second.labels, first.labels)
    np.testing.assert_array_equal(second.split_codes, first.split_codes)


def test_changed_source_is_never_served_stale(tmp_path, private_cache):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", make_faces(seed=1))
    stat = path.stat()
    load_faces(path)
    changed = make_faces(seed=2)
    write_fer2013_csv(path, changed)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and mtime: only the content differs
    np.testing.assert_array_equal(load_faces(path).faces, changed.faces)


def test_failed_parse_leaves_no_cache_entry(tmp_path, faces, private_cache):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    path.write_text(path.read_text() + "9,1 2 3,Training\n")
    with pytest.raises(DataError):
        load_faces(path)
    assert entries(private_cache) == []
    assert not list(private_cache.glob(".*tmp"))


def test_damaged_cache_entry_is_a_miss(tmp_path, faces, private_cache):
    path = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    load_faces(path)
    (entry,) = private_cache.glob("faces-*")
    faces_file = entry / "faces.npy"
    faces_file.write_bytes(faces_file.read_bytes()[:100])
    np.testing.assert_array_equal(load_faces(path).faces, faces.faces)


@pytest.mark.parametrize("problem", ["under a file", "disk full"])
def test_an_unwritable_cache_warns_in_one_line_and_the_load_succeeds(tmp_path, faces, monkeypatch, capsys, problem):
    csv = write_fer2013_csv(tmp_path / "fer2013.csv", faces)
    if problem == "under a file":
        (tmp_path / "a-file").write_text("x")
        cache = tmp_path / "a-file" / "cache"
    else:
        cache = tmp_path / "cache"

        def disk_full(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr("ferkit.data.cache.np.save", disk_full)
    monkeypatch.setenv("FERKIT_CACHE_DIR", str(cache))
    loaded = load_faces(csv)
    assert np.array_equal(loaded.faces, faces.faces)
    warning = capsys.readouterr().err.strip()
    assert warning.startswith("ferkit: warning: cannot write the face cache in") and "\n" not in warning
    assert not list(cache.glob("*.tmp"))  # no half-written entry left behind


def test_a_cached_dataset_shows_the_path_it_was_loaded_from(tmp_path, monkeypatch):
    import shutil

    from ferkit.data import load_faces
    from tests.conftest import write_fer2013_csv
    from tests.train.conftest import tiny_faces

    monkeypatch.setenv("FERKIT_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "alice").mkdir()
    (tmp_path / "bob").mkdir()
    first = write_fer2013_csv(tmp_path / "alice" / "fer2013.csv", tiny_faces())
    second = shutil.copy(first, tmp_path / "bob" / "fer2013.csv")
    assert load_faces(first).source == str(first)
    again = load_faces(second)  # the same bytes: a cache hit
    assert again.source == str(second) and "alice" not in again.source
