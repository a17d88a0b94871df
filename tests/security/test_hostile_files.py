"""Hostile image files: the same decoder and limits for uploads, webcam frames and dataset folders."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ferkit.data import DataError, load_faces
from ferkit.game.app import create_app
from ferkit.game.settings import ServerSettings
from ferkit.imagefile import ImageTooLargeError, NotAnImageError, decode_image, read_image_bytes
from tests.conftest import make_faces
from tests.data.test_archives_and_folders import write_folders
from tests.game.fakes import ScriptedRecognizer


def gif_claiming(width: int, height: int) -> bytes:
    """A 1×1 GIF whose screen and frame headers claim width×height."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "GIF")
    gif = bytearray(buffer.getvalue())
    gif[6:10] = struct.pack("<HH", width, height)
    frame = gif.index(b",")
    gif[frame + 5 : frame + 9] = struct.pack("<HH", width, height)
    return bytes(gif)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header for width×height with almost no pixel data: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    )


def saved_as(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, kind)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("huge.gif", gif_claiming(65535, 65535)),
        ("huge.png", png_claiming(20000, 20000)),
        ("big.png", png_claiming(8000, 8000)),
    ],
)
def test_a_dataset_image_with_absurd_dimensions_is_refused_by_name(tmp_path, name, raw):
    write_folders(tmp_path, make_faces())
    (tmp_path / "train" / "HAPPY" / name).write_bytes(raw)
    with pytest.raises(ImageTooLargeError, match=rf"{name}: image too large"):
        load_faces(tmp_path)


@pytest.mark.parametrize("kind", ["ICO", "TGA", "PCX"])
def test_formats_pillow_knows_but_we_do_not_decode_are_unsupported(kind):
    with pytest.raises(NotAnImageError, match=rf"x: unsupported image format {kind} \(expected JPEG"):
        decode_image(saved_as(kind), "x")


@pytest.mark.parametrize("kind", ["GIF", "PPM", "WEBP", "TIFF", "BMP"])
def test_every_supported_format_decodes(kind):
    assert decode_image(saved_as(kind), "x").shape == (64, 64, 3)
    assert decode_image(saved_as(kind), "x", gray=True).shape == (64, 64)


def test_an_ico_upload_is_415_not_damaged(tmp_path):
    settings = ServerSettings(leaderboard_path=tmp_path / "lb.sqlite3")
    with TestClient(create_app(settings, recognizer=ScriptedRecognizer())) as client:
        response = client.post("/v1/predict", files={"image": ("icon.ico", saved_as("ICO"))})
    assert response.status_code == 415 and "unsupported image format ICO" in response.json()["detail"]


def test_a_huge_file_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr("ferkit.imagefile.MAX_FILE_BYTES", 1000)
    path = tmp_path / "huge.jpg"
    path.write_bytes(np.zeros(2000, np.uint8).tobytes())
    with pytest.raises(DataError, match=r"huge\.jpg: file too large for an image"):
        read_image_bytes(path)


def test_a_link_in_an_archive_is_named_not_called_corrupt(tmp_path):
    import tarfile

    path = tmp_path / "fer2013.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        link = tarfile.TarInfo("fer2013/fer2013.csv")
        link.type, link.linkname = tarfile.SYMTYPE, "../../../etc/passwd"
        tf.addfile(link)
    with pytest.raises(DataError, match=r"fer2013/fer2013.csv inside is a link \(to \.\./\.\./\.\./etc/passwd\)"):
        load_faces(path)


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_an_archive_member_over_the_size_cap_is_refused_before_inflating(tmp_path, monkeypatch, kind):
    import tarfile
    import zipfile

    from tests.conftest import write_fer2013_csv

    csv = write_fer2013_csv(tmp_path / "fer2013.csv", make_faces())
    monkeypatch.setattr("ferkit.data.archive.MAX_CSV_BYTES", 1000)
    path = tmp_path / f"bomb.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(csv, "fer2013.csv")
    else:
        with tarfile.open(path, "w:gz") as tf:
            tf.add(csv, "fer2013.csv")
    with pytest.raises(DataError, match=r"fer2013.csv inside would be [\d,]+ bytes uncompressed; the limit is 1,000"):
        load_faces(path, cache=False)


def test_a_full_disk_while_saving_a_checkpoint_says_so(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    import os

    from ferkit.models.checkpoint import CheckpointError, save_checkpoint

    path = tmp_path / "last.pt"
    save_checkpoint(path, {"w": torch.zeros(3)})
    before = path.read_bytes()

    def onto_a_full_disk(fd, mode):  # the temp file's writes go to /dev/full: a real ENOSPC
        os.close(fd)
        return open("/dev/full", mode)

    monkeypatch.setattr("ferkit.data.cache.os.fdopen", onto_a_full_disk)
    with pytest.raises(CheckpointError, match=r"last\.pt: cannot save the checkpoint: the disk is full; the previous"):
        save_checkpoint(path, {"w": torch.zeros(100_000)})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_torchs_short_write_message_becomes_disk_full(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from ferkit.models.checkpoint import CheckpointError, save_checkpoint

    def short_write(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 1024 vs 980")

    monkeypatch.setattr(torch, "save", short_write)
    with pytest.raises(CheckpointError, match=r"cannot save the checkpoint: the disk is full \([\d,]+ bytes free\)"):
        save_checkpoint(tmp_path / "best.pt", {})
