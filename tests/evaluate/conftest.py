"""A small trained checkpoint (and its ONNX export) for evaluation tests."""

from __future__ import annotations

import pytest

from ferkit.train import train
from tests.conftest import write_fer2013_csv
from tests.train.conftest import tiny_faces, tiny_run_config


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("evalrun")
    csv_path = write_fer2013_csv(root / "fer2013.csv", tiny_faces(n_report=48))
    train(tiny_run_config(csv_path, root / "run", epochs=3, lr=0.02, augment="none", amp="off"))
    return csv_path, root / "run"
