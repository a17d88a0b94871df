"""A tiny on-disk FER2013 for training tests (learnable: each class has its own bright band)."""

from __future__ import annotations

import numpy as np
import pytest

from ferkit.data.faceset import FaceSet
from ferkit.train import TrainConfig, recipe_config
from tests.conftest import write_fer2013_csv


def tiny_faces(n_train: int = 96, n_select: int = 32, n_report: int = 16, seed: int = 0) -> FaceSet:
    rng = np.random.default_rng(seed)
    n = n_train + n_select + n_report
    labels = (np.arange(n) % 7).astype(np.int8)
    faces = rng.integers(0, 80, size=(n, 48, 48), dtype=np.uint8)
    for i, label in enumerate(labels):
        faces[i, label * 6 : label * 6 + 6, :] += 150  # the class is written on the face
    splits = np.array([0] * n_train + [1] * n_select + [2] * n_report, dtype=np.uint8)
    return FaceSet(faces, labels, splits, source="tiny")


@pytest.fixture
def tiny_csv(tmp_path):
    return write_fer2013_csv(tmp_path / "fer2013.csv", tiny_faces())


def tiny_run_config(csv_path, out, **settings) -> TrainConfig:
    """The small CPU VGG on a tiny csv, batches of 16, no bar, no TensorBoard; `settings` on top."""
    return recipe_config("smoke", data=str(csv_path), out=str(out), model="fer-vgg-s", batch_size=16, **settings)


@pytest.fixture
def tiny_config(tiny_csv, tmp_path):
    """Two quick epochs with light augmentation, EMA and label smoothing."""
    return tiny_run_config(
        tiny_csv, tmp_path / "run", epochs=2, lr=0.01, augment="light", ema_decay=0.9, label_smoothing=0.1
    )
