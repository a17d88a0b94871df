"""A parse-once cache of FaceSets keyed on the source's content; a stale entry is never used.

Hashing 300 MB on every load would cost more than the 0.1 s a cached load may take, so the
content hash of each source file is memoised against its (size, mtime_ns, ctime_ns, inode).
ctime changes on any write and cannot be set back by user tools, so a changed file always
gets re-hashed; an identical copy elsewhere re-hashes once and then hits the same entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ferkit.data.faceset import FaceSet
from ferkit.files import atomic_write

# Bump when a reader's output for the same bytes changes, so old entries are ignored.
CACHE_FORMAT = 3
_HASH_CHUNK = 16 << 20


def cache_dir() -> Path:
    """$FERKIT_CACHE_DIR, else the user's cache directory (e.g. ~/.cache/ferkit)."""
    env = os.environ.get("FERKIT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ferkit"))


def _stat_key(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|{st.st_ino}"


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, memoised by its stat signature."""
    memo_path = cache_dir() / "digests.json"
    key = _stat_key(path)
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    if key in memo:
        return memo[key]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    digest = h.hexdigest()
    memo = {k: v for k, v in memo.items() if not k.startswith(f"{path.resolve()}|")}
    memo[key] = digest
    with contextlib.suppress(OSError):
        payload = json.dumps(memo).encode()
        atomic_write(memo_path, lambda f: f.write(payload))
    return digest


def content_key(parts: Iterable[str]) -> str:
    """One key from several digests (sources, options, reader version)."""
    h = hashlib.sha256(f"ferkit-cache-v{CACHE_FORMAT}".encode())
    for part in parts:
        h.update(b"\0" + part.encode())
    return h.hexdigest()[:32]


_ARRAYS = ("faces", "labels", "split_codes", "row_index", "votes")


def _entry_dir(key: str) -> Path:
    return cache_dir() / f"faces-{key}"


def load_cached(key: str) -> FaceSet | None:
    """The cached FaceSet for this key, or None (missing or unreadable entries are ignored).

    Arrays are memory-mapped read-only .npy files: a cached load costs milliseconds, and the
    pages come from the OS page cache as they are touched.
    """
    entry = _entry_dir(key)
    if not (entry / "complete").exists():
        return None
    try:
        arrays = {
            name: np.asarray(np.load(entry / f"{name}.npy", mmap_mode="r", allow_pickle=False))
            for name in _ARRAYS
            if (entry / f"{name}.npy").exists()
        }
        return FaceSet(
            faces=arrays["faces"],
            labels=arrays["labels"],
            split_codes=arrays["split_codes"],
            votes=arrays.get("votes"),
            source=(entry / "source.txt").read_text(),
            row_index=arrays["row_index"],
        )
    except Exception:  # a damaged entry is a miss, never an error: the source is still there
        return None


def save_cached(key: str, faces: FaceSet) -> None:
    """Write the entry into a temp folder, then rename it into place: no partial entry is ever visible."""
    entry = _entry_dir(key)
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}.", suffix=".tmp"))
    try:
        for name in _ARRAYS:
            value = getattr(faces, name)
            if value is not None:
                np.save(tmp / f"{name}.npy", np.ascontiguousarray(value), allow_pickle=False)
        (tmp / "source.txt").write_text(faces.source)
        (tmp / "complete").touch()
        if entry.exists():  # a stale or damaged entry under the same key
            shutil.rmtree(entry, ignore_errors=True)
        os.rename(tmp, entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (entry / "complete").exists():
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
