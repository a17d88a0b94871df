"""load_faces(): sniff a path (csv, archive, folder of images), read it once, and cache the result."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path

from ferkit.data.cache import cache_dir, content_key, file_digest, load_cached, save_cached
from ferkit.data.errors import DataError
from ferkit.data.faceset import FaceSet
from ferkit.data.ferplus import join_ferplus
from ferkit.data.layouts import layout_of

_GIVEN_PATH = "\x00path\x00"  # stands for the path a cached dataset is loaded from, in its stored source


def load_faces(path: str | Path, *, ferplus: str | Path | None = None, cache: bool = True) -> FaceSet:
    """Read FER2013 in any supported layout; join FER+ votes when `ferplus` names fer2013new.csv.

    The layouts and the order they are tried in: `ferkit.data.layouts.LAYOUTS`.
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
    return layout_of(path).sources(path)


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
    faces = layout_of(path).read(path, sources)
    return join_ferplus(faces, ferplus) if ferplus is not None else faces
