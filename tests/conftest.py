"""Shared fixtures: synthetic faces written in every FER2013 layout, and a private cache per test."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

# Compiled csv kernels are cached across test runs (compiling them takes seconds).
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "ferkit-test-numba"))

from ferkit.data.faceset import FaceSet
from ferkit.labels import SPLITS

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FER2013_TARBALL = SHARED_DATA / "fer2013.tar.gz"
FERPLUS_CSV = SHARED_DATA / "fer2013new.csv"


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch) -> Path:
    """Each test gets an empty ferkit cache, never the user's."""
    path = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("FERKIT_CACHE_DIR", str(path))
    return path


def make_faces(n: int = 21, seed: int = 0) -> FaceSet:
    """Tiny synthetic faces: every class, every official split, random pixels (0 and 255 included)."""
    rng = np.random.default_rng(seed)
    faces = rng.integers(0, 256, size=(n, 48, 48), dtype=np.uint8)
    faces[0, 0, 0], faces[0, 0, 1] = 0, 255
    labels = (np.arange(n) % 7).astype(np.int8)
    splits = np.array([0] * (n - 2 * (n // 3)) + [1] * (n // 3) + [2] * (n // 3), dtype=np.uint8)
    return FaceSet(faces=faces, labels=labels, split_codes=splits, source="synthetic")


def pixel_text(face: np.ndarray) -> str:
    return " ".join(str(int(v)) for v in face.ravel())


def write_fer2013_csv(path: Path, faces: FaceSet, *, newline: str = "\n") -> Path:
    lines = ["emotion,pixels,Usage"]
    lines += [f"{lab},{pixel_text(f)},{SPLITS[s]}" for f, lab, s in zip(faces.faces, faces.labels, faces.split_codes)]
    path.write_text(newline.join(lines) + newline)
    return path


def write_icml_csv(path: Path, faces: FaceSet) -> Path:
    lines = ["emotion, Usage, pixels"]
    lines += [f"{lab},{SPLITS[s]},{pixel_text(f)}" for f, lab, s in zip(faces.faces, faces.labels, faces.split_codes)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def faces() -> FaceSet:
    return make_faces()
