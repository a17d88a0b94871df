"""Collections larger than one machine: photos analysed on a Dask cluster, the Recognizer as the per-batch function.

Each partition of paths is analysed by one Recognizer made on the worker (the model file and the detector
travel by name, never a session), with `infer.batch.analyse_photo`, so a cluster gives the same results
as `ferkit predict` on one machine. Needs the `cluster` extra (`pip install 'ferkit[cluster]'`); the
scheduler can be a `LocalCluster` on a laptop or any `dask.distributed` deployment. The photos must be
readable at the same paths from every worker (a shared filesystem or object store mount).
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from ferkit.infer.batch import PhotoResult, PhotoTask, analyse_photo
from ferkit.infer.recognizer import Recognizer
from ferkit.onnx_sessions import set_intra_op_threads


def analyse_partition(paths: list[str], model: str, detector: str, tta: str = "none") -> list[dict[str, Any]]:
    """The per-batch function: the worker's Recognizer for the whole partition, one plain dict per photo."""
    # Dask already runs one task per worker thread, a thread per core: each call on one thread, as in
    # `ferkit predict --jobs`, or every task's thread pools (and the detector's second core) fight the others
    set_intra_op_threads(1)
    _large_blocks_from_the_heap()
    recognizer = _worker_recognizer(model, detector, tta)
    return [_plain(analyse_photo(recognizer, PhotoTask(Path(p)))) for p in paths]


@lru_cache(maxsize=1)
def _large_blocks_from_the_heap() -> bool:
    """Undo what MALLOC_TRIM_THRESHOLD_ does to glibc's malloc in this process; whether it was done.

    Dask's nanny starts its workers with MALLOC_TRIM_THRESHOLD_=65536 (to hand freed memory back to the OS),
    which also pins glibc's mmap threshold at 128 KiB: every frame-sized array (a 640×480 picture, the MTCNN
    nets' buffers) is then mapped and unmapped anew, page faults and all. A photo took 29 ms in such a process
    against 17 ms without (one onnxruntime thread, `benchmarks/cluster_speed.py`'s photos); with blocks up to
    32 MiB from the heap and up to 64 MiB of freed heap kept, 19 ms. Elsewhere (no such variable) nothing changes.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, say): the variable meant nothing to it either
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's mallopt parameters (malloc.h)
    return bool(libc.mallopt(m_mmap_threshold, 32 << 20) and libc.mallopt(m_trim_threshold, 64 << 20))


@lru_cache(maxsize=4)
def _worker_recognizer(model: str, detector: str, tta: str) -> Recognizer:
    """One Recognizer per worker process for all its partitions (thread-safe, so its threads share it),
    not four onnxruntime sessions opened again for every partition (~34 ms each time here)."""
    return Recognizer(model, detector, tta=tta)


def _plain(result: PhotoResult) -> dict[str, Any]:
    return {"image": str(result.path), "faces": result.faces, "error": result.error}


def analyse_on_cluster(
    paths: list[str | Path],
    client: Any,
    *,
    model: str = "default",
    detector: str = "mtcnn",
    tta: str = "none",
    partition_size: int | None = None,
) -> list[dict[str, Any]]:
    """Results for every photo, in the order given, computed by the Dask `client`'s workers
    (`partition_size`: photos a task; by default `balanced_partition_size` for the client's worker threads)."""
    import dask.bag as db

    if partition_size is None:
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        partition_size = balanced_partition_size(len(paths), threads)
    bag = db.from_sequence([str(p) for p in paths], partition_size=partition_size)
    return bag.map_partitions(analyse_partition, model, detector, tta).compute(scheduler=client.get)


def balanced_partition_size(photos: int, threads: int, most: int = 64) -> int:
    """Photos a task so that every worker thread gets about four tasks (a fixed 64 left one of two workers
    with 128 of 200 photos and the other 72), at most `most` (a task's results travel back in one message)."""
    return max(1, min(most, math.ceil(photos / (4 * max(threads, 1)))))
