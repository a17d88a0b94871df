"""Photo reading limits and the FER-style crop (detection quality is measured in NOTES.md, not here)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ferkit.data import DataError
from ferkit.vision import FaceBox, HaarFaceDetector, crop_face, read_image


def test_crop_of_the_exact_box_gives_back_the_face():
    face = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    face = cv2.GaussianBlur(face, (0, 0), 1.0)  # smooth, so resampling twice loses little
    scene = np.full((400, 500, 3), 127, np.uint8)
    scene[100:292, 150:342] = cv2.cvtColor(
        cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR
    )
    crop = crop_face(scene, FaceBox(150, 100, 192, 192, 1.0), framing=1.0)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8
    assert np.abs(crop.astype(int) - face).mean() < 4


def test_crop_near_the_border_is_padded_not_shifted():
    scene = np.zeros((100, 100), np.uint8)
    crop = crop_face(scene, FaceBox(-20, 70, 60, 60, 1.0))
    assert crop.shape == (48, 48)


def test_detector_finds_nothing_in_a_plain_image():
    assert HaarFaceDetector().detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_read_image_errors(tmp_path):
    (tmp_path / "notes.jpg").write_text("hello")
    with pytest.raises(DataError, match=r"notes\.jpg: not a readable image"):
        read_image(tmp_path / "notes.jpg")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        read_image(tmp_path / "empty.png")
    cv2.imwrite(str(tmp_path / "huge.png"), np.zeros((8200, 8200), np.uint8))  # 67 MP, a few KB on disk
    with pytest.raises(DataError, match="image too large"):
        read_image(tmp_path / "huge.png")
