"""Packs of chosen splits round-trip, leave other splits behind, and name a corrupt file."""

from __future__ import annotations

import numpy as np
import pytest

from ferkit.data import DataError, load_faces
from ferkit.data.pack import write_pack


def test_pack_round_trip_without_privatetest(tmp_path, faces):
    out = write_pack(faces, tmp_path / "faces.ferpack.xz", ["Training", "PublicTest"])
    got = load_faces(out)
    assert got.split_names == ["Training", "PublicTest"]
    keep = faces.split_codes < 2
    np.testing.assert_array_equal(got.faces, faces.faces[keep])
    np.testing.assert_array_equal(got.labels, faces.labels[keep])
    np.testing.assert_array_equal(got.row_index, np.flatnonzero(keep))


def test_pack_errors(tmp_path, faces):
    with pytest.raises(ValueError, match=r"must end in \.ferpack\.xz"):
        write_pack(faces, tmp_path / "faces.npz", ["Training"])
    with pytest.raises(KeyError, match="unknown split"):
        write_pack(faces, tmp_path / "f.ferpack.xz", ["Validation"])
    out = write_pack(faces, tmp_path / "f.ferpack.xz", ["Training"])
    out.write_bytes(out.read_bytes()[:200])
    with pytest.raises(DataError, match="not a readable ferkit pack"):
        load_faces(out)
