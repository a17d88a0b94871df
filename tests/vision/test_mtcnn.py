"""MTCNN on onnxruntime: NMS, no faces in a plain image, and the pasted FER2013 face found where it is."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ferkit.vision.mtcnn import MtcnnFaceDetector, _nms
from tests.conftest import FER2013_TARBALL


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10, 0.9], [1, 1, 11, 11, 0.8], [50, 50, 60, 60, 0.7]], dtype=float)
    assert _nms(boxes, 0.5).tolist() == [0, 2]
    assert _nms(np.empty((0, 5)), 0.5).tolist() == []


def test_plain_image_has_no_face():
    assert MtcnnFaceDetector().detect(np.full((240, 320, 3), 128, np.uint8)) == []


@pytest.mark.slow
@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
def test_finds_a_fer_face_in_a_scene():
    from ferkit.data import load_faces

    face = np.asarray(load_faces(FER2013_TARBALL).split("PrivateTest").faces[3])
    scene = cv2.GaussianBlur(np.random.default_rng(1).integers(60, 200, (480, 640), dtype=np.uint8), (0, 0), 5)
    scene[60:252, 40:232] = cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC)
    (box,) = MtcnnFaceDetector().detect(cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR))
    assert abs(box.x + box.w / 2 - 136) < 20 and abs(box.y + box.h / 2 - 156) < 20
    assert box.score > 0.9


@pytest.mark.slow
@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
def test_landmarks_follow_a_turned_face():
    from ferkit.data import load_faces
    from ferkit.vision.crop import eye_angle

    face = cv2.resize(np.asarray(load_faces(FER2013_TARBALL).split("PrivateTest").faces[3]), (192, 192))
    angles = {}
    for turn in (-15, 15):  # OpenCV: positive turns counter-clockwise, lifting the right eye
        turned = cv2.warpAffine(face, cv2.getRotationMatrix2D((96, 96), turn, 1.0), (192, 192))
        scene = np.full((480, 640), 120, np.uint8)
        scene[60:252, 40:232] = turned
        (box,) = MtcnnFaceDetector().detect(cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR))
        (lx, _), (rx, _) = box.landmarks[:2]
        assert box.x < lx < rx < box.x + box.w  # left eye left of the right eye, both inside the box
        angles[turn] = eye_angle(box)
    assert angles[-15] > 5 and angles[15] < -5


def _nms_one_by_one(boxes: np.ndarray, threshold: float, method: str) -> list[int]:
    """Greedy NMS written out pair by pair: the best remaining box stays, boxes overlapping it go."""
    order = list(np.argsort(-boxes[:, 4], kind="stable"))
    area = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    keep = []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        survivors = []
        for j in order:
            w = max(0.0, min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0]) + 1)
            h = max(0.0, min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1]) + 1)
            denom = min(area[i], area[j]) if method == "min" else area[i] + area[j] - w * h
            if w * h / denom <= threshold:
                survivors.append(j)
        order = survivors
    return keep


@pytest.mark.parametrize("count", [40, 600])  # the all-pairs path (≤ 512 boxes) and the loop beyond it
def test_nms_keeps_what_the_pairwise_rule_keeps(count):
    rng = np.random.default_rng(count)
    for _ in range(1 if count > 512 else 40):
        x1, y1 = np.fix(rng.uniform(0, 300, count)), np.fix(rng.uniform(0, 300, count))
        side = rng.uniform(1, 80, count)
        score = np.round(rng.uniform(0, 1, count), 2)  # ties, as P-Net's rounded scores have
        boxes = np.column_stack([x1, y1, x1 + side, y1 + side * rng.uniform(0.8, 1.2, count), score])
        for method, threshold in (("union", 0.5), ("union", 0.7), ("min", 0.7)):
            assert _nms(boxes, threshold, method).tolist() == _nms_one_by_one(boxes, threshold, method)


@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
def test_the_second_core_finds_exactly_what_one_core_finds(monkeypatch):
    from ferkit.data import load_faces
    from ferkit.vision import mtcnn

    faces = load_faces(FER2013_TARBALL).split("PrivateTest").faces
    rng = np.random.default_rng(3)
    scene = cv2.GaussianBlur(rng.integers(40, 220, (480, 640), dtype=np.uint8), (0, 0), 4)
    for k, (x, y, side) in enumerate([(20, 40, 220), (300, 60, 120), (480, 300, 60)]):
        scene[y : y + side, x : x + side] = cv2.resize(np.asarray(faces[k + 10]), (side, side))
    image = cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR)
    image[..., 2] = cv2.add(image[..., 2], 25)  # some colour, so the LAB equaliser has work to do
    monkeypatch.setattr(mtcnn, "owns_the_cores", lambda: True)  # whatever earlier tests set
    two = MtcnnFaceDetector()
    monkeypatch.setattr(mtcnn, "owns_the_cores", lambda: False)
    one = MtcnnFaceDetector()
    assert two._two_cores and not one._two_cores
    for options in ({}, {"min_size": 70}, {"max_faces": 1}):
        found = two.detect(image, **options)
        assert found and found == one.detect(image, **options)


def test_a_process_of_one_thread_calls_keeps_the_detector_on_one_core(monkeypatch):
    from ferkit import onnx_sessions

    monkeypatch.setattr(onnx_sessions, "_intra_op_threads", 1)
    assert not MtcnnFaceDetector()._two_cores


def _detect_in_child(detector: MtcnnFaceDetector, queue) -> None:
    queue.put(detector.detect(np.full((240, 320, 3), 128, np.uint8)))


def test_a_forked_child_detects_with_its_parents_detector(monkeypatch):
    """The parent's second-core thread does not survive a fork: the child must not wait on it for ever."""
    import multiprocessing

    from ferkit.vision import mtcnn

    monkeypatch.setattr(mtcnn, "owns_the_cores", lambda: True)
    detector = MtcnnFaceDetector()
    assert detector.detect(np.full((240, 320, 3), 128, np.uint8)) == []  # the parent's pool thread now runs
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_detect_in_child, args=(detector, queue))
    child.start()
    child.join(timeout=60)
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung and queue.get(timeout=5) == []


def test_large_boxes_are_cut_from_shrunk_copies_close_to_the_full_image_crop():
    from ferkit.vision.mtcnn import ShrunkCopies, _crops

    rng = np.random.default_rng(3)
    rgb = cv2.GaussianBlur(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), (0, 0), 3)
    copies = ShrunkCopies(rgb)
    assert copies.half.shape == (240, 320, 3) and copies.quarter.shape == (120, 160, 3)
    # small (full image), large (half copy), larger (quarter copy), and one over the edge (zero outside)
    boxes = np.array([[100, 80, 139, 119], [50, 40, 249, 239], [0, 0, 399, 399], [500, 300, 699, 499]], float)
    for size in (24, 48):
        exact, shrunk = _crops(rgb, boxes, size), _crops(copies, boxes, size)
        assert shrunk.shape == exact.shape == (4, size, size, 3)
        levels = np.abs(shrunk - exact) * 127.5  # back to pixel levels
        if size == 24:
            assert levels[0].max() == 0  # a small box reads the full image: the same crop
        assert levels.mean() < 2.0 and np.median(levels) <= 2.0


def test_the_fast_detector_finds_the_photo_faces_where_the_exact_one_does():
    from pathlib import Path

    photo = cv2.imread(str(Path(__file__).resolve().parents[2] / "docs" / "predict-astronaut.jpg"))
    two = np.concatenate([photo, cv2.flip(photo, 1)], axis=1)  # one face each side
    for picture, faces in ((photo, 1), (two, 2)):
        # the confident ones: the exact detector also passes a badge on the suit at 0.73, just over O-Net's 0.7
        exact = [f for f in MtcnnFaceDetector().detect(picture) if f.score > 0.9]
        fast = [f for f in MtcnnFaceDetector(shrunk_crops=True).detect(picture) if f.score > 0.9]
        assert len(fast) == len(exact) == faces
        for a, b in zip(sorted(exact, key=lambda f: f.x), sorted(fast, key=lambda f: f.x)):
            assert max(abs(a.x - b.x), abs(a.y - b.y), abs(a.w - b.w), abs(a.h - b.h)) <= 0.06 * a.h
