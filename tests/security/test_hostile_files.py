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
