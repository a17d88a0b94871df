"""Photo reading limits and the FER-style crop (detection quality is measured in NOTES.md, not here)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from ferkit.data import DataError
from ferkit.vision import FaceBox, HaarFaceDetector, crop_face, read_image
from ferkit.vision.crop import levelled_square
from ferkit.vision.detect import to_gray


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
    """A box hanging off the left and bottom edges: the visible part stays where the box puts it."""
    scene = np.zeros((100, 100), np.uint8)
    scene[70:, :40] = 200  # exactly the part of the box inside the image
    scene[70:, 38:40] = 90  # its right-hand edge, which must land at the crop's right-hand edge
    crop = crop_face(scene, FaceBox(-20, 70, 60, 60, 1.0), 1.0)
    assert crop.shape == (48, 48)
    assert crop[:20, 20:44].min() == 200  # the visible part fills the top right of the crop...
    assert crop[:20, 46:].max() < 200  # ...up to the box's right-hand edge (not shifted inwards)


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


def test_level_eyes_turns_a_tilted_face_upright():
    from ferkit.vision.crop import eye_angle

    image = np.zeros((200, 200), np.uint8)
    image[95:105, 20:180] = 255  # the "eye line", then tilted by 20°
    tilted = cv2.warpAffine(image, cv2.getRotationMatrix2D((100, 100), 20, 1.0), (200, 200))
    # eyes on the tilted line: turning CCW by 20° lifts the right-hand end
    left, right = (
        (100 - 50 * np.cos(np.radians(20)), 100 + 50 * np.sin(np.radians(20))),
        (
            100 + 50 * np.cos(np.radians(20)),
            100 - 50 * np.sin(np.radians(20)),
        ),
    )
    box = FaceBox(40, 40, 120, 120, 0.99, landmarks=(left, right, (100, 120), (80, 140), (120, 140)))
    assert eye_angle(box) == pytest.approx(-20, abs=0.01)
    levelled = crop_face(tilted, box, 1.0, level_eyes=True).astype(float)
    rows = levelled.mean(axis=1)
    assert rows[22:26].mean() > 150 and rows[:15].mean() < 20 and rows[33:].mean() < 20  # one level band
    slanted = crop_face(tilted, box, 1.0).astype(float).mean(axis=1)
    assert slanted.max() < 0.6 * rows.max()  # without levelling no row holds the whole line


def test_exif_orientation_is_honoured(tmp_path):
    from PIL import Image

    stored = np.zeros((100, 200), np.uint8)
    stored[:, :100] = 255  # the left half is white as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display", as a phone held upright writes it
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    shown = read_image(tmp_path / "phone.jpg")
    assert shown.shape[:2] == (200, 100)  # portrait, as the phone showed it
    assert shown[:90].mean() > 200 and shown[110:].mean() < 50  # the white half is now on top


def _levelled_reference(gray: np.ndarray, cx: float, cy: float, dx: float, dy: float, side: int) -> np.ndarray:
    """levelled_square's documented integer bilinear, written out plainly over the whole image."""
    norm = math.sqrt(dx * dx + dy * dy)
    c, s = dx / norm, dy / norm
    offsets = np.arange(side, dtype=np.float64) - side / 2
    u, v = offsets[None, :], offsets[:, None]
    x = np.floor((cx + c * u - s * v) * 32 + 0.5).astype(np.int64)
    y = np.floor((cy + s * u + c * v) * 32 + 0.5).astype(np.int64)
    ix, fx, iy, fy = x >> 5, x & 31, y >> 5, y & 31
    height, width = gray.shape
    x0, x1 = np.clip(ix, 0, width - 1), np.clip(ix + 1, 0, width - 1)
    y0, y1 = np.clip(iy, 0, height - 1), np.clip(iy + 1, 0, height - 1)
    g = gray.astype(np.int64)
    top = (32 - fx) * g[y0, x0] + fx * g[y0, x1]
    bottom = (32 - fx) * g[y1, x0] + fx * g[y1, x1]
    return (((32 - fy) * top + fy * bottom + 512) >> 10).astype(np.uint8)


def test_levelled_square_is_the_integer_bilinear_it_documents():
    """The crop runs on OpenCV's fixed-point remap; the page ports the plain formula: they must agree to the byte,
    for squares inside, across and wholly outside the image, on colour and gray pictures down to one pixel."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        height, width = int(rng.integers(1, 200)), int(rng.integers(1, 260))
        picture = rng.integers(0, 256, (height, width, 3), np.uint8)
        side = int(rng.integers(1, 240))
        cx, cy = float(rng.uniform(-120, width + 120)), float(rng.uniform(-120, height + 120))
        dx, dy = rng.normal(size=2)
        want = _levelled_reference(to_gray(picture), cx, cy, dx, dy, side)
        np.testing.assert_array_equal(levelled_square(picture, cx, cy, dx, dy, side), want)
        np.testing.assert_array_equal(levelled_square(to_gray(picture), cx, cy, dx, dy, side), want)
