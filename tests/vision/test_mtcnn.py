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
