"""Training faces re-framed by our own detector: each put in a webcam-like frame, found, and cropped back.

The classifier learns on FER2013's crops but, in the game and on photos, sees crops cut around MTCNN's
box from a webcam frame: framed a little differently, tilted, in poor light, blurred, JPEG-compressed.
Replacing a share of the Training faces by such crops lets training see what inference sees. Only
Training faces are touched (never a test split), one crop per face, in place: rows, labels and FER+ votes
stay aligned.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from ferkit.data.faceset import FaceSet
from ferkit.labels import SPLITS, TRAIN_SPLIT
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


def reframe_training(
    faces: FaceSet,
    share: float,
    *,
    seed: int = 0,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[FaceSet, int, int]:
    """A copy of `faces` with `share` of the Training faces replaced by detector crops.

    Returns (faces, replaced, chosen): faces the detector missed keep their original crop.
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    rng = np.random.default_rng(seed)
    training = np.flatnonzero(faces.split_codes == SPLITS.index(TRAIN_SPLIT))
    chosen = np.sort(rng.choice(training, size=round(share * len(training)), replace=False))
    chunks = np.array_split(chosen, max(1, len(chosen) // 256))
    work = [(faces.faces[rows], seed * 100_003 + k) for k, rows in enumerate(chunks)]
    new_faces = faces.faces.copy()
    replaced = done = 0
    jobs = jobs or os.cpu_count() or 1
    # one process per core, one thread each: MTCNN on small frames does not gain from intra-op threads
    with ProcessPoolExecutor(max_workers=jobs, initializer=_one_thread) if jobs > 1 else _InProcess() as pool:
        for rows, (crops, found) in zip(chunks, pool.map(_reframe_chunk, work)):
            new_faces[rows] = crops
            replaced += int(found.sum())
            done += len(rows)
            if progress is not None:
                progress(done, len(chosen))
    reframed = FaceSet(
        faces=new_faces,
        labels=faces.labels,
        split_codes=faces.split_codes,
        votes=faces.votes,
        source=f"{faces.source}, {replaced} Training faces re-framed by the detector",
        row_index=faces.row_index,
    )
    return reframed, replaced, len(chosen)


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
