"""Photos on a local Dask cluster give the same answers as on this machine, in order, failures included."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

from ferkit.infer import Recognizer
from ferkit.infer.batch import PhotoTask, analyse_photo

distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (.[cluster])")


def test_a_local_cluster_matches_one_machine(tmp_path):
    from ferkit.infer.cluster import analyse_on_cluster

    rng = np.random.default_rng(0)
    paths = []
    for k in range(6):
        path = tmp_path / f"p{k}.png"
        cv2.imwrite(str(path), cv2.GaussianBlur(rng.integers(0, 255, (90, 120, 3), np.uint8), (0, 0), 3))
        paths.append(path)
    (tmp_path / "bad.jpg").write_text("not an image")
    paths.insert(3, tmp_path / "bad.jpg")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        results = analyse_on_cluster(paths, client, partition_size=2)
    recognizer = Recognizer()
    expected = [analyse_photo(recognizer, PhotoTask(p)) for p in paths]
    assert [r["image"] for r in results] == [str(p) for p in paths]
    assert [r["faces"] for r in results] == [e.faces for e in expected]
    assert results[3]["error"] and "bad.jpg" in results[3]["error"]


def test_a_cluster_task_keeps_each_call_on_one_core(monkeypatch):
    """Dask runs a task per worker thread, a thread per core: a task's nets must not spread over the
    others' cores (nor the detector use a second one)."""
    from ferkit import onnx_sessions
    from ferkit.infer.cluster import analyse_partition

    monkeypatch.setattr(onnx_sessions, "_intra_op_threads", 0)  # put back as it was after the test
    assert analyse_partition([], "default", "mtcnn") == []
    assert onnx_sessions._intra_op_threads == 1 and not onnx_sessions.owns_the_cores()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
def test_a_worker_started_with_dasks_malloc_trim_gets_large_blocks_from_the_heap_again():
    import os
    import subprocess

    probe = "from ferkit.infer.cluster import _large_blocks_from_the_heap as f; print(f(), f())"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    plain = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert plain.stdout.split() == ["False", "False"]  # nothing touched where the variable is not set
    nanny = subprocess.run(  # as Dask's nanny starts a worker
        [sys.executable, "-c", probe], env={**env, "MALLOC_TRIM_THRESHOLD_": "65536"}, capture_output=True, text=True
    )
    assert nanny.returncode == 0 and nanny.stdout.split() == ["True", "True"]  # once per process (cached)


def test_partitions_give_every_worker_thread_about_four_tasks():
    from ferkit.infer.cluster import balanced_partition_size

    assert balanced_partition_size(200, 2) == 25  # 8 tasks of 25, not 64, 64, 64 and 8
    assert balanced_partition_size(100_000, 16) == 64  # large collections: at most 64 a task
    assert balanced_partition_size(3, 8) == 1 and balanced_partition_size(0, 2) == 1
