"""Every registered face detector: nothing in a plain image, the pasted FER2013 face found, the stop honoured."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ferkit.errors import UnknownName
from ferkit.infer import Recognizer
from ferkit.vision import DETECTORS, create_detector
from ferkit.vision.stop import AnalysisStopped, StopSignal
from tests.conftest import FER2013_TARBALL


@pytest.mark.parametrize("name", DETECTORS.names())
def test_a_plain_image_has_no_face_and_a_stop_is_honoured(name):
    detector = create_detector(name)
    assert 0.5 < detector.fer_framing < 2.0
    assert detector.detect(np.full((240, 320, 3), 128, np.uint8)) == []
    stop = StopSignal()
    stop.cancel()
    with pytest.raises(AnalysisStopped):
        detector.detect(np.full((240, 320, 3), 128, np.uint8), stop=stop)


@pytest.mark.slow
@pytest.mark.skipif(not FER2013_TARBALL.exists(), reason=f"FER2013 not found at {FER2013_TARBALL}")
@pytest.mark.parametrize("name", DETECTORS.names())
def test_every_detector_finds_the_pasted_face_and_the_recognizer_uses_it(name):
    from ferkit.data import load_faces

    face = np.asarray(load_faces(FER2013_TARBALL).split("PrivateTest").faces[4])  # one Haar finds too
    scene = cv2.GaussianBlur(np.random.default_rng(1).integers(60, 200, (480, 640), dtype=np.uint8), (0, 0), 5)
    scene[60:252, 40:232] = cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC)
    (box,) = create_detector(name).detect(cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR))
    assert 40 < box.x + box.w / 2 < 232 and 60 < box.y + box.h / 2 < 252  # on the pasted face
    (found,) = Recognizer(detector=name).predict(cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR))
    assert abs(found.box.x - box.x) <= 4 and abs(found.box.y - box.y) <= 4  # the recognizer used this detector


def test_an_unknown_detector_lists_the_registered_ones():
    with pytest.raises(UnknownName, match="unknown face detector 'dlib'; choose one of: mtcnn, mtcnn-fast, haar"):
        Recognizer(detector="dlib")
