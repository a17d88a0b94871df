"""Find and read the FER2013 csv inside Kaggle's archives (fer2013.tar.gz, the competition .zip)."""

from __future__ import annotations

import io
import tarfile
import zipfile
import zlib
from pathlib import Path

from ferkit.data.errors import DataError

# In order of preference: the full file with official splits first.
CSV_NAMES = ("fer2013.csv", "icml_face_data.csv", "train.csv")
_ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, zipfile.BadZipFile, OSError)


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".tar.gz", ".tgz", ".tar", ".zip"))


def read_csv_from_archive(path: Path) -> tuple[bytes, str]:
    """(csv bytes, member name) of the best FER2013 csv in the archive, read without extracting to disk."""
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


def _from_tar(tf: tarfile.TarFile, path: Path) -> tuple[bytes, str]:
    members = {m.name: m for m in tf.getmembers() if m.isfile()}
    name = _pick(list(members), path)
    f = tf.extractfile(members[name])
    assert f is not None
    data = f.read()
    if len(data) != members[name].size:
        raise DataError(path, f"the archive is truncated: {name} should be {members[name].size} bytes")
    return data, name


def _from_zip(zf: zipfile.ZipFile, path: Path) -> tuple[bytes, str]:
    names = [n for n in zf.namelist() if not n.endswith("/")]
    nested = [n for n in names if n.rsplit("/", 1)[-1] == "fer2013.tar.gz"]
    if nested:  # Kaggle's competition zip wraps the original tarball
        with tarfile.open(fileobj=io.BytesIO(zf.read(nested[0])), mode="r:gz") as tf:
            data, inner = _from_tar(tf, path)
            return data, f"{nested[0]}/{inner}"
    name = _pick(names, path)
    return zf.read(name), name
