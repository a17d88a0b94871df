"""Photos on a local Dask cluster give the same answers as on this machine, in order, failures included."""

from __future__ import annotations

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
