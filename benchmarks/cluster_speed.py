"""Photos per second for a folder of photos: one process, `--jobs` worker processes, and a local Dask cluster.

The photos are copies of benchmarks/latency.py's 640×480 frame with one face, each shifted a little (so no two
are the same file), written as JPEG to a temporary folder. Each way is timed over the whole folder after a
warm-up that makes its Recognizers. `--calls-own-the-cores` runs the cluster's tasks the way they ran before
session 20: every task's nets on every core, beside the other tasks.
Usage: python benchmarks/cluster_speed.py [--photos 200] [--workers 2] [--data fer2013.tar.gz]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from latency import DEFAULT, one_face_frame

from ferkit.infer.batch import PhotoTask, analyse_photos


def write_photos(folder: Path, frame: np.ndarray, count: int) -> list[Path]:
    paths = []
    for k in range(count):
        path = folder / f"photo{k:04d}.jpg"
        cv2.imwrite(str(path), np.roll(frame, (k % 7 - 3, k % 11 - 5), axis=(0, 1)), [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def on_this_machine(paths: list[Path], jobs: int) -> float:
    tasks = [PhotoTask(p) for p in paths]
    start = time.perf_counter()
    results = list(analyse_photos(tasks, jobs=jobs, redo=True))
    assert all(r.error is None for r in results)
    return len(paths) / (time.perf_counter() - start)


def whole_cores_partition(paths: list[str], model: str, detector: str, tta: str = "none") -> list[dict]:
    """The per-batch function as it was before session 20: the task's calls on every core."""
    from ferkit.infer import Recognizer
    from ferkit.infer.batch import analyse_photo
    from ferkit.infer.cluster import _plain

    recognizer = Recognizer(model, detector, tta=tta)
    return [_plain(analyse_photo(recognizer, PhotoTask(Path(p)))) for p in paths]


def on_a_local_cluster(paths: list[Path], workers: int, calls_own_the_cores: bool) -> float:
    import dask.bag as db
    import distributed

    from ferkit.infer.cluster import analyse_on_cluster, analyse_partition

    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:

        def run(chosen: list[Path]) -> list[dict]:
            if not calls_own_the_cores:
                return analyse_on_cluster(chosen, client)  # partitions balanced over the workers
            bag = db.from_sequence([str(p) for p in chosen], partition_size=16)
            return bag.map_partitions(whole_cores_partition, "default", "mtcnn").compute(scheduler=client.get)

        # warm-up on every worker: imports, numba's kernels, the model files read once
        warm = whole_cores_partition if calls_own_the_cores else analyse_partition
        client.run(warm, [str(paths[0])], "default", "mtcnn")
        start = time.perf_counter()
        results = run(paths)
        seconds = time.perf_counter() - start
    assert all(r["error"] is None for r in results)
    return len(paths) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="--jobs processes, and Dask workers (1 thread each)")
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--calls-own-the-cores", action="store_true", help="also time the cluster as before session 20")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = write_photos(Path(folder), one_face_frame(args.data), args.photos)
        on_this_machine(paths[:4], 1)  # warm-up: numba kernels, the model files in the page cache
        print(f"{args.photos} photos of 640×480, one face each")
        print(f"one process:                       {on_this_machine(paths, 1):6.1f} photos/s")
        print(f"--jobs {args.workers}:                           {on_this_machine(paths, args.workers):6.1f} photos/s")
        try:
            import distributed  # noqa: F401
        except ImportError:
            print("local Dask cluster: not installed (pip install -e '.[cluster]')")
            return
        rate = on_a_local_cluster(paths, args.workers, calls_own_the_cores=False)
        print(f"local Dask cluster, {args.workers} workers × 1 thread: {rate:6.1f} photos/s")
        if args.calls_own_the_cores:
            rate = on_a_local_cluster(paths, args.workers, calls_own_the_cores=True)
            print(f"  the same, each task on every core (before session 20): {rate:6.1f} photos/s")


if __name__ == "__main__":
    main()
