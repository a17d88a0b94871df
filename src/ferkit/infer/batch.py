"""Many photos: analysed by several processes at once (one Recognizer each), in input order, failures kept.

Each worker opens its own onnxruntime sessions once; results come back in the order the files were given,
so output is the same for any number of jobs. A file that cannot be read is a result with an error, never a
stopped batch. With an output folder, a photo whose annotated copy is already there is skipped (a rerun of
a stopped batch does only what is left).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from ferkit.errors import DataError
from ferkit.infer.annotate import annotate
from ferkit.infer.recognizer import Recognizer
from ferkit.onnx_sessions import set_intra_op_threads

_worker: Recognizer | None = None  # one per worker process


@dataclass(frozen=True)
class PhotoTask:
    path: Path
    annotated: Path | None = None  # where to write the annotated copy, if anywhere


@dataclass(frozen=True)
class PhotoResult:
    path: Path
    faces: list[dict] = field(default_factory=list)  # FacePrediction.to_dict() of each face
    error: str | None = None
    annotated: Path | None = None
    skipped: bool = False  # its annotated copy was already there


def already_done(task: PhotoTask) -> bool:
    """The annotated copy exists and is newer than the photo."""
    a = task.annotated
    return a is not None and a.is_file() and a.stat().st_mtime >= task.path.stat().st_mtime


def analyse_photo(recognizer: Recognizer, task: PhotoTask) -> PhotoResult:
    from ferkit.vision import read_image

    try:
        image = read_image(task.path)
    except DataError as e:
        return PhotoResult(task.path, error=str(e))
    faces = recognizer.predict(image)
    if task.annotated is not None:
        task.annotated.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(task.annotated), annotate(image, faces))
    return PhotoResult(task.path, [f.to_dict() for f in faces], annotated=task.annotated)


def _start_worker(model: str, detector: str, tta: str, rule: str, min_face: float | None) -> None:
    global _worker
    # one process per core: each call on one thread, or the processes' thread pools fight for the cores
    set_intra_op_threads(1)
    _worker = Recognizer(model, detector, tta=tta, rule=rule, min_face=min_face)


def _run_in_worker(task: PhotoTask) -> PhotoResult:
    assert _worker is not None
    return analyse_photo(_worker, task)


def analyse_photos(
    tasks: list[PhotoTask],
    *,
    model: str = "default",
    detector: str = "mtcnn",
    tta: str = "none",
    jobs: int = 1,
    redo: bool = False,
    rule: str = "balanced",
    min_face: float | None = None,
) -> Iterator[PhotoResult]:
    """Results in the order of `tasks`; `jobs` processes (1: this one); done photos skipped unless `redo`;
    `min_face`: the smallest face looked for (Recognizer's)."""
    todo = [t for t in tasks if redo or not already_done(t)]
    done = {t.path for t in tasks} - {t.path for t in todo}
    if jobs <= 1:
        recognizer = Recognizer(model, detector, tta=tta, rule=rule, min_face=min_face)
        results: Iterator[PhotoResult] = (analyse_photo(recognizer, t) for t in todo)
    else:
        pool = ProcessPoolExecutor(
            max_workers=jobs, initializer=_start_worker, initargs=(model, detector, tta, rule, min_face)
        )
        results = _closing(pool, pool.map(_run_in_worker, todo, chunksize=4))
    by_order = iter(results)
    for task in tasks:
        yield PhotoResult(task.path, annotated=task.annotated, skipped=True) if task.path in done else next(by_order)


def _closing(pool: ProcessPoolExecutor, results: Iterator[PhotoResult]) -> Iterator[PhotoResult]:
    try:
        yield from results
    finally:
        pool.shutdown(cancel_futures=True)
