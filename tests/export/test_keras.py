"""The Keras export: every registered net rebuilt in Keras matches torch; .keras and legacy .h5 files reload."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from ferkit.cli import app
from ferkit.models import create_model, list_models
from ferkit.train import train
from tests.conftest import write_fer2013_csv
from tests.train.conftest import tiny_faces, tiny_run_config

pytestmark = pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="keras not installed (.[export])")


def _with_trained_looking_statistics(model: torch.nn.Module) -> torch.nn.Module:
    """Batch-norm statistics away from 0/1, so a mistake in carrying them over would show."""
    generator = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            for tensor, low, high in ((m.running_mean, -0.5, 0.5), (m.running_var, 0.5, 2.0),
                                      (m.weight.data, 0.5, 1.5), (m.bias.data, -0.2, 0.2)):  # fmt: skip
                tensor.copy_(torch.rand(tensor.shape, generator=generator) * (high - low) + low)
    return model.eval()


@pytest.mark.parametrize("name", [entry.name for entry in list_models()])
def test_every_registered_net_rebuilt_in_keras_matches_torch(name):
    from ferkit.export.keras_export import to_keras

    torch.manual_seed(0)
    model = _with_trained_looking_statistics(create_model(name))
    faces = np.random.default_rng(0).integers(0, 256, (4, 48, 48)).astype(np.float32)
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(faces[:, None])), 1).numpy()
    got = np.asarray(to_keras(model)(faces[..., None]))
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_keras_and_legacy_h5_files_reload_and_carry_class_names(tmp_path):
    csv_path = write_fer2013_csv(tmp_path / "fer2013.csv", tiny_faces())
    train(tiny_run_config(csv_path, tmp_path / "run", epochs=1, augment="none", amp="off"))
    for name in ("model.keras", "model.h5"):
        result = CliRunner().invoke(
            app, ["export", str(tmp_path / "run" / "best.pt"), "--format", "keras", "--out", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
        assert "max probability difference vs torch on 256 faces" in result.output
    sidecar = json.loads((tmp_path / "model.json").read_text())
    assert sidecar["class_names"][3] == "happy" and sidecar["keras_backend"] == "jax"
    result = CliRunner().invoke(
        app, ["export", str(tmp_path / "run" / "best.pt"), "--format", "keras", "--out", str(tmp_path / "m.pb")]
    )
    assert result.exit_code == 2 and "named *.keras (or legacy *.h5)" in result.stderr
