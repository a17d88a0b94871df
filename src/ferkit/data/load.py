"""load_faces(): sniff a path (csv, archive, folder of images), read it once, and cache the result."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ferkit.data.archive import is_archive, read_csv_from_archive
from ferkit.data.cache import cache_dir, content_key, file_digest, load_cached, save_cached
from ferkit.data.csv_reader import parse_csv_buffer, read_csv_file
from ferkit.data.errors import DataError
from ferkit.data.faceset import FaceSet
from ferkit.data.ferplus import join_ferplus
from ferkit.data.folders import list_images, looks_like_image_folders, read_image_folders
from ferkit.data.pack import is_pack, read_pack

_GIVEN_PATH = "\x00path\x00"  # stands for the path a cached dataset is loaded from, in its stored source
_DIRECTORY_FILES = ("fer2013.csv", "icml_face_data.csv", "fer2013.tar.gz", "train.csv")


def load_faces(path: str | Path, *, ferplus: str | Path | None = None, cache: bool = True) -> FaceSet:
    """Read FER2013 in any supported layout; join FER+ votes when `ferplus` names fer2013new.csv.

    Layouts: fer2013.csv, fer2013.tar.gz, Kaggle's competition .zip, icml_face_data.csv, train.csv
    (+ test.csv beside it), image folders train|test/<class>/*, and ferkit packs (*.ferpack.xz). A
    directory holding one of the files is read as that file.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(path, "no such file or directory")
    ferplus_path = Path(ferplus).expanduser() if ferplus is not None else None
    if ferplus_path is not None and not ferplus_path.is_file():
        raise DataError(ferplus_path, "no such FER+ votes file")
    sources = _sources(path)
    if not cache:
        return _read(path, sources, ferplus_path)
    parts = [_source_digest(sources), str(path.name)]
    if ferplus_path is not None:
        parts.append("ferplus:" + file_digest(ferplus_path))
    key = content_key(parts)
    cached = load_cached(key)
    if cached is not None:  # the same bytes may have been read from another path first: show this one
        return replace(cached, source=cached.source.replace(_GIVEN_PATH, str(path)))
    faces = _read(path, sources, ferplus_path)
    try:
        save_cached(key, replace(faces, source=faces.source.replace(str(path), _GIVEN_PATH)))
    except OSError as e:  # caching is best-effort: the faces parsed, so the load succeeds
        reason = e.strerror or str(e)
        print(
            f"ferkit: warning: cannot write the face cache in {cache_dir()} ({reason}); "
            "the next load parses again (set FERKIT_CACHE_DIR to a writable folder)",
            file=sys.stderr,
        )
    return faces


def _sources(path: Path) -> list[Path]:
    """The files whose content defines the dataset (for the cache key)."""
    if path.is_file():
        siblings = [path.with_name("test.csv")] if path.name == "train.csv" else []
        return [path, *[s for s in siblings if s.is_file()]]
    if looks_like_image_folders(path):
        return [file for file, _, _ in list_images(path)]
    for name in _DIRECTORY_FILES:
        if (path / name).is_file():
            return _sources(path / name)
    if (path / "test.csv").is_file():
        return [path / "test.csv"]
    raise DataError(
        path,
        "no FER2013 data found; expected one of "
        + ", ".join(_DIRECTORY_FILES)
        + ", test.csv, or image folders train/<class>/ and test/<class>/",
    )


def _source_digest(sources: list[Path]) -> str:
    if len(sources) <= 2:
        return "|".join(file_digest(s) for s in sources)
    # Many small images: hashing every byte costs as much as decoding; their names and stat
    # signatures (ctime included, which any rewrite changes) identify the content.
    h = hashlib.sha256()
    for s in sources:
        st = s.stat()
        h.update(f"{s}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}\n".encode())
    return "folders:" + h.hexdigest()


def _read(path: Path, sources: list[Path], ferplus: Path | None) -> FaceSet:
    if is_pack(path):
        faces = read_pack(path)
    elif path.is_dir() and looks_like_image_folders(path):
        faces = read_image_folders(path)
    else:
        faces = _read_csv_sources(sources)
    return join_ferplus(faces, ferplus) if ferplus is not None else faces


def _read_csv_sources(sources: list[Path]) -> FaceSet:
    sets = []
    for source in sources:
        if is_archive(source):
            data, member = read_csv_from_archive(source)
            default = "Test" if member.endswith("test.csv") else "Training"
            sets.append(parse_csv_buffer(np.frombuffer(data, np.uint8), f"{source}:{member}", default_split=default))
        else:
            default = "Test" if source.name == "test.csv" else "Training"
            sets.append(read_csv_file(source, default_split=default))
    if len(sets) == 1:
        return sets[0]
    return _concat(sets)


def _concat(sets: list[FaceSet]) -> FaceSet:
    return FaceSet(
        faces=np.concatenate([s.faces for s in sets]),
        labels=np.concatenate([s.labels for s in sets]),
        split_codes=np.concatenate([s.split_codes for s in sets]),
        source=" + ".join(s.source for s in sets),
    )
