"""The dataset layouts by name (`LAYOUTS`, in the order a path is tried): which files define it, how to read them.

A new layout is one reader module plus one `LAYOUTS.add(...)` here; `load_faces`, the CLI's help and the
"no FER2013 data found" message all come from this list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferkit.data.archive import is_archive, read_csv_from_archive
from ferkit.data.csv_reader import parse_csv_buffer, read_csv_file
from ferkit.data.errors import DataError
from ferkit.data.faceset import FaceSet
from ferkit.data.folders import list_images, looks_like_image_folders, read_image_folders
from ferkit.data.pack import is_pack, read_pack
from ferkit.registry import Registry

# csv files a folder may hold, most complete first (a folder holding several is read as the first)
FOLDER_FILES = ("fer2013.csv", "icml_face_data.csv", "fer2013.tar.gz", "train.csv", "test.csv")


@dataclass(frozen=True)
class Layout:
    matches: Callable[[Path], bool]
    sources: Callable[[Path], list[Path]]  # the files whose content defines the dataset (the cache key)
    read: Callable[[Path, list[Path]], FaceSet]


LAYOUTS: Registry[Layout] = Registry("dataset layout")


def _is_csv(path: Path) -> bool:
    return path.is_file() and not is_pack(path) and not is_archive(path)


def _csv_sources(path: Path) -> list[Path]:
    """A csv and, for Kaggle's train.csv, the test.csv beside it."""
    sibling = path.with_name("test.csv")
    return [path, sibling] if path.name == "train.csv" and sibling.is_file() else [path]


def _read_csvs(path: Path, sources: list[Path]) -> FaceSet:
    sets = [read_csv_file(s, default_split="Test" if s.name == "test.csv" else "Training") for s in sources]
    return sets[0] if len(sets) == 1 else _concat(sets)


def _read_archive(path: Path, sources: list[Path]) -> FaceSet:
    data, member = read_csv_from_archive(path)
    default = "Test" if member.endswith("test.csv") else "Training"
    return parse_csv_buffer(np.frombuffer(data, np.uint8), f"{path}:{member}", default_split=default)


def _folder_file(path: Path) -> Path | None:
    if not path.is_dir():
        return None
    return next((path / name for name in FOLDER_FILES if (path / name).is_file()), None)


def _via_folder_file(part: str) -> Callable:
    """Sources or reader of the file a folder holds, by that file's own layout."""

    def run(path: Path, *args):
        inner = _folder_file(path)
        layout = layout_of(inner)  # type: ignore[arg-type]
        return layout.sources(inner) if part == "sources" else layout.read(inner, *args)  # type: ignore[arg-type]

    return run


def _concat(sets: list[FaceSet]) -> FaceSet:
    return FaceSet(
        faces=np.concatenate([s.faces for s in sets]),
        labels=np.concatenate([s.labels for s in sets]),
        split_codes=np.concatenate([s.split_codes for s in sets]),
        source=" + ".join(s.source for s in sets),
    )


LAYOUTS.add("pack", "a ferkit pack of chosen splits (*.ferpack.xz, `ferkit data pack`)",
            Layout(lambda p: p.is_file() and is_pack(p), lambda p: [p], lambda p, s: read_pack(p)))  # fmt: skip
LAYOUTS.add("image-folders", "image folders train|test/<class>/*.png|jpg (Kaggle's msambare layout)",
            Layout(looks_like_image_folders, lambda p: [f for f, _, _ in list_images(p)],
                   lambda p, s: read_image_folders(p)))  # fmt: skip
LAYOUTS.add("archive", "fer2013.tar.gz, Kaggle's competition .zip, or any .tar/.tgz/.zip holding a FER2013 csv",
            Layout(lambda p: p.is_file() and is_archive(p), lambda p: [p], _read_archive))  # fmt: skip
LAYOUTS.add("csv", "fer2013.csv, icml_face_data.csv, train.csv (+ test.csv beside it) or test.csv",
            Layout(_is_csv, _csv_sources, _read_csvs))  # fmt: skip
LAYOUTS.add("folder", f"a folder holding one of: {', '.join(FOLDER_FILES)}",
            Layout(lambda p: _folder_file(p) is not None, _via_folder_file("sources"),
                   _via_folder_file("read")))  # fmt: skip


def layout_of(path: Path) -> Layout:
    """The first layout that matches `path`; a DataError listing every layout when none does."""
    for entry in LAYOUTS:
        if entry.value.matches(path):
            return entry.value
    listing = "; ".join(entry.description for entry in LAYOUTS)
    raise DataError(path, f"no FER2013 data found; expected {listing}")
