"""Following a stream: which faces a detection looks for, and that it then runs on the full pyramid's shapes."""

from __future__ import annotations

import numpy as np

from ferkit.vision.detect import FaceBox
from ferkit.vision.following import FOLLOWED_FACE_SHARE, FULL_DETECTION_EVERY, followed_min_size


def test_every_few_detections_look_for_faces_of_any_size():
    faces = [FaceBox(0, 0, 120, 100, 0.9), FaceBox(200, 0, 80, 90, 0.9)]
    assert followed_min_size([], 1) is None  # nothing followed: search everything
    assert followed_min_size(faces, 0) is None and followed_min_size(faces, FULL_DETECTION_EVERY) is None
    assert followed_min_size(faces, 1) == FOLLOWED_FACE_SHARE * 80  # the smallest side of the smallest face


def test_a_smaller_search_runs_p_net_on_a_subset_of_the_full_searchs_shapes():
    """onnxruntime-web plans every new input shape anew: min_size skips levels instead of moving them."""
    from ferkit.vision.mtcnn import MtcnnFaceDetector

    detector = MtcnnFaceDetector()
    shapes: list[tuple[int, ...]] = []
    run = detector.pnet.run

    class Recording:
        def run(self, names, feeds):
            shapes.append(next(iter(feeds.values())).shape)
            return run(names, feeds)

    detector.pnet = Recording()
    image = np.random.default_rng(0).integers(0, 256, (240, 320, 3), np.uint8)
    detector.detect(image)
    full = list(shapes)
    for min_size in (45, 57, 90, 131):
        shapes.clear()
        detector.detect(image, min_size=min_size)
        assert shapes and set(shapes) < set(full) and shapes == full[-len(shapes) :], min_size
