"""A small trained checkpoint (and its ONNX export) for evaluation tests."""

from __future__ import annotations

import pytest

from ferkit.train import recipe_config, train
from tests.conftest import write_fer2013_csv
from tests.train.conftest import tiny_faces


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("evalrun")
    csv_path = write_fer2013_csv(root / "fer2013.csv", tiny_faces(n_report=48))
    cfg = recipe_config(
        "smoke",
        data=str(csv_path),
        out=str(root / "run"),
        model="fer-vgg-s",
        epochs=3,
        batch_size=16,
        lr=0.02,
        augment="none",
        amp="off",
    )
    train(cfg)
    return csv_path, root / "run"
