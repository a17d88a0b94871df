"""Find and read the FER2013 csv inside Kaggle's archives (fer2013.tar.gz, the competition .zip)."""

from __future__ import annotations

import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import IO

from ferkit.data.errors import DataError

# In order of preference: the full file with official splits first.
CSV_NAMES = ("fer2013.csv", "icml_face_data.csv", "train.csv")
# FER2013's csv is 287 MB; a member claiming more is refused before a byte is inflated (a zip bomb).
MAX_CSV_BYTES = 1024 * 1024 * 1024
_CHUNK = 16 * 1024 * 1024
_ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, zipfile.BadZipFile, OSError)


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".tar.gz", ".tgz", ".tar", ".zip"))


def read_csv_from_archive(path: Path) -> tuple[bytearray, str]:
    """(csv bytes, member name) of the best FER2013 csv in the archive, read without extracting to disk.

    Only regular files are read (a link is named as such), and never more than MAX_CSV_BYTES.
    """
    try:
        if path.name.lower().endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                return _from_zip(zf, path)
        with tarfile.open(path, "r:*") as tf:
            return _from_tar(tf, path)
    except DataError:
        raise
    except _ARCHIVE_ERRORS as e:
        raise DataError(path, f"the archive is truncated or corrupt ({type(e).__name__}: {e})") from None


def _pick(names: list[str], path: Path) -> str:
    for wanted in CSV_NAMES:
        for name in names:
            if name.rsplit("/", 1)[-1] == wanted:
                return name
    raise DataError(path, f"no FER2013 csv inside; expected one of {', '.join(CSV_NAMES)}")


def _read_capped(f: IO[bytes], declared: int, name: str, path: Path) -> bytearray:
    """The member's bytes, read in chunks; refused when it claims or turns out to be over the limit."""
    limit = f"the limit is {MAX_CSV_BYTES:,} bytes (FER2013's csv is about 300 MB)"
    if declared > MAX_CSV_BYTES:
        raise DataError(path, f"{name} inside would be {declared:,} bytes uncompressed; {limit}")
    data = bytearray()
    while chunk := f.read(_CHUNK):
        data += chunk
        if len(data) > MAX_CSV_BYTES:  # the size in the header lied
            raise DataError(path, f"{name} inside inflates to over {MAX_CSV_BYTES:,} bytes; {limit}")
    return data


def _refuse_links(members: list[tarfile.TarInfo], path: Path) -> None:
    for m in members:
        if (m.issym() or m.islnk()) and m.name.rsplit("/", 1)[-1] in CSV_NAMES:
            raise DataError(
                path,
                f"{m.name} inside is a link (to {m.linkname}), not a file; ferkit reads only regular files "
                "from archives",
            )


def _from_tar(tf: tarfile.TarFile, path: Path) -> tuple[bytearray, str]:
    all_members = tf.getmembers()
    members = {m.name: m for m in all_members if m.isfile()}
    try:
        name = _pick(list(members), path)
    except DataError:
        _refuse_links(all_members, path)  # a better reason than "no csv inside"
        raise
    f = tf.extractfile(members[name])
    assert f is not None
    data = _read_capped(f, members[name].size, name, path)
    if len(data) != members[name].size:
        raise DataError(path, f"the archive is truncated: {name} should be {members[name].size} bytes")
    return data, name


def _from_zip(zf: zipfile.ZipFile, path: Path) -> tuple[bytearray, str]:
    names = [n for n in zf.namelist() if not n.endswith("/")]
    nested = [n for n in names if n.rsplit("/", 1)[-1] == "fer2013.tar.gz"]
    if nested:  # Kaggle's competition zip wraps the original tarball: read it as a stream, not a copy
        with zf.open(nested[0]) as inner_file, tarfile.open(fileobj=inner_file, mode="r:gz") as tf:
            data, inner = _from_tar(tf, path)
            return data, f"{nested[0]}/{inner}"
    name = _pick(names, path)
    with zf.open(name) as f:
        return _read_capped(f, zf.getinfo(name).file_size, name, path), name
