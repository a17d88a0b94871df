"""Download FER2013 from Kaggle with the official client and unpack it to a readable csv."""

from __future__ import annotations

import contextlib
import io
import tarfile
import zipfile
from pathlib import Path
from typing import Any

from ferkit.errors import DataError, SetupError

COMPETITION = "challenges-in-representation-learning-facial-expression-recognition-challenge"
RULES_URL = f"https://www.kaggle.com/c/{COMPETITION}/rules"


class KaggleSetupError(SetupError):
    """The download cannot start or finish; the message is the one-line fix."""


def _make_api() -> Any:
    # Importing the kaggle package authenticates at import time and prints its help when that
    # fails; we authenticate ourselves below, so keep its import quiet.
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError as e:
        raise KaggleSetupError(f"the Kaggle client is not installed ({e}): pip install 'ferkit[data]'") from None
    return KaggleApi()


def download_fer2013(dest: Path) -> Path:
    """Fetch the competition files into dest, unpack them, and return the path of fer2013.csv."""
    dest.mkdir(parents=True, exist_ok=True)
    api = _make_api()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            api.authenticate()
    except SystemExit:  # the client exits when it finds no credentials
        raise KaggleSetupError(
            "no Kaggle credentials: save kaggle.json from https://www.kaggle.com/settings (API → Create New "
            "Token) as ~/.kaggle/kaggle.json, or set KAGGLE_USERNAME and KAGGLE_KEY"
        ) from None
    try:
        api.competition_download_files(COMPETITION, path=str(dest), quiet=False)
    except Exception as e:
        raise KaggleSetupError(_explain_failure(e)) from e
    return unpack_download(dest)


def _explain_failure(error: BaseException) -> str:
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status == 403:
        return f"Kaggle refused the download: accept the competition rules at {RULES_URL}, then run again"
    if status == 401:
        return "Kaggle rejected the credentials: create a new token at https://www.kaggle.com/settings"
    if status == 404:
        return f"Kaggle has no competition {COMPETITION!r} (renamed or removed?)"
    name = type(error).__name__
    if isinstance(error, OSError) or "Connection" in name or "Timeout" in name:
        return f"cannot reach kaggle.com ({name}): check the network connection or the HTTPS_PROXY setting"
    return f"the Kaggle download failed: {name}: {error}"


def unpack_download(dest: Path) -> Path:
    """Unzip Kaggle's competition zip and the fer2013.tar.gz inside it; return fer2013.csv's path."""
    for archive in sorted(dest.glob("*.zip")):
        try:
            with zipfile.ZipFile(archive) as zf:
                _check_members(zf.namelist(), archive)
                zf.extractall(dest)
        except zipfile.BadZipFile as e:
            raise DataError(archive, f"the downloaded archive is corrupt ({e}); delete it and download again") from None
    for tarball in sorted(dest.rglob("fer2013.tar.gz")):
        try:
            with tarfile.open(tarball, "r:gz") as tf:
                _check_members(tf.getnames(), tarball)
                tf.extractall(dest, filter="data")
        except (tarfile.TarError, EOFError, OSError) as e:
            raise DataError(tarball, f"the archive is truncated or corrupt ({e})") from None
    for name in ("fer2013.csv", "icml_face_data.csv", "train.csv"):
        found = sorted(dest.rglob(name))
        if found:
            return found[0]
    raise DataError(dest, "the download holds no fer2013.csv, icml_face_data.csv or train.csv")


def _check_members(names: list[str], archive: Path) -> None:
    for name in names:
        if name.startswith("/") or ".." in Path(name).parts:
            raise DataError(archive, f"refusing to unpack {name!r}: it points outside the folder")
