"""Faces re-framed by our own detector: each put in a webcam-like frame, found, and cropped back.

The classifier learns on FER2013's crops but, in the game and on photos, sees crops cut around MTCNN's
box from a webcam frame: framed a little differently, tilted, in poor light, blurred, JPEG-compressed.
Replacing a share of the Training faces by such crops lets training see what inference sees
(`ferkit data reframe`, which touches Training faces only and keeps rows, labels and FER+ votes aligned).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from ferkit.vision.crop import crop_face
from ferkit.vision.webcam import webcam_frame


def detector_crop(detector, face: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """The 48×48 crop the detector cuts from a webcam-like frame of `face`; None where it finds no face."""
    frame = webcam_frame(face, rng)
    boxes = detector.detect(frame)
    if not boxes:
        return None
    box = max(boxes, key=lambda b: b.w * b.h)  # one face per frame: the largest box is it
    return crop_face(frame, box, detector.fer_framing)


def _reframe_chunk(args: tuple[np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
    """Worker: detector crops of a chunk of faces (a missed face keeps its original), and which were found."""
    from ferkit.vision.detectors import DEFAULT_DETECTOR, create_detector

    faces, seed = args
    detector = create_detector(DEFAULT_DETECTOR)
    rng = np.random.default_rng(seed)
    out, found = faces.copy(), np.zeros(len(faces), bool)
    for i, face in enumerate(faces):
        crop = detector_crop(detector, face, rng)
        if crop is not None:
            out[i], found[i] = crop, True
    return out, found


def detector_crops(
    faces: np.ndarray,
    *,
    seed: int = 0,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each 48×48 face's detector crop from a webcam-like frame: (crops, found); a missed face keeps its own."""
    chunks = np.array_split(np.arange(len(faces)), max(1, len(faces) // 256))
    work = [(faces[rows], seed * 100_003 + k) for k, rows in enumerate(chunks)]
    crops, found = faces.copy(), np.zeros(len(faces), bool)
    done = 0
    jobs = jobs or os.cpu_count() or 1
    # one process per core, one thread each: MTCNN on small frames does not gain from intra-op threads
    with ProcessPoolExecutor(max_workers=jobs, initializer=_one_thread) if jobs > 1 else _InProcess() as pool:
        for rows, (chunk_crops, chunk_found) in zip(chunks, pool.map(_reframe_chunk, work)):
            crops[rows], found[rows] = chunk_crops, chunk_found
            done += len(rows)
            if progress is not None:
                progress(done, len(faces))
    return crops, found


class _InProcess:
    """`jobs=1`: the same calls in this process (no pool to start; tests can patch the detector)."""

    def __enter__(self) -> _InProcess:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def map(self, function, items):
        return map(function, items)


def _one_thread() -> None:
    from ferkit.onnx_sessions import set_intra_op_threads

    set_intra_op_threads(1)
