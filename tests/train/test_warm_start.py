"""Runs that start from a trained model: a checkpoint, or an ONNX export whose BatchNorms were folded away."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ferkit.export.onnx_export import export_onnx
from ferkit.models import create_model
from ferkit.models.checkpoint import CheckpointError, load_checkpoint, model_from_checkpoint
from ferkit.train import train
from ferkit.train.warm_start import warm_start
from tests.train.conftest import tiny_csv, tiny_faces, tiny_run_config  # noqa: F401 (fixture)

CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@pytest.fixture
def trained(tiny_csv, tmp_path):  # noqa: F811
    """A tiny trained run and its ONNX export."""
    train(tiny_run_config(tiny_csv, tmp_path / "source", epochs=2, lr=0.02, augment="none", ema_decay=0.0))
    onnx_path = tmp_path / "source.onnx"
    export_onnx(tmp_path / "source" / "best.pt", onnx_path)
    return tmp_path / "source" / "best.pt", onnx_path


def probabilities(model: torch.nn.Module, faces: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return torch.softmax(model(torch.as_tensor(faces, dtype=torch.float32)[:, None]), 1).numpy()


def test_an_onnx_export_gives_back_a_network_that_computes_the_same(trained):
    checkpoint, onnx_path = trained
    faces = np.asarray(tiny_faces().faces)
    model = create_model("fer-vgg-s", num_classes=7)
    notes = warm_start(model, onnx_path, "fer-vgg-s", CLASSES, faces)
    assert str(onnx_path) in notes[0]
    original = model_from_checkpoint(load_checkpoint(checkpoint))
    assert np.abs(probabilities(model, faces) - probabilities(original, faces)).max() < 1e-4
    # the BatchNorms carry statistics measured on the faces, not an identity, so train mode starts close
    norm = model.features[1][1]
    assert not torch.allclose(norm.running_var, torch.ones_like(norm.running_var), atol=0.01)


def test_a_model_of_other_classes_gives_all_but_its_last_layer(trained):
    checkpoint, onnx_path = trained
    faces = np.asarray(tiny_faces().faces)
    eight = (*CLASSES, "contempt")
    for source in (checkpoint, onnx_path):
        model = create_model("fer-vgg-s", num_classes=8)
        fresh_head = model.head[6].weight.detach().clone()
        notes = warm_start(model, source, "fer-vgg-s", eight, faces)
        assert "last layer was left out" in notes[-1]
        assert torch.equal(model.head[6].weight, fresh_head)
        source_weights = model_from_checkpoint(load_checkpoint(checkpoint)).state_dict()
        assert torch.allclose(model.head[2].weight, source_weights["head.2.weight"])


def test_another_network_is_refused_naming_the_file(trained):
    checkpoint, onnx_path = trained
    for source in (checkpoint, onnx_path):
        with pytest.raises(CheckpointError, match=rf"{source.name}: holds a fer-vgg-s network; this run trains"):
            warm_start(create_model("fer-vgg-l", num_classes=7), source, "fer-vgg-l", CLASSES, np.zeros((4, 48, 48)))


def test_a_run_started_from_a_model_begins_where_it_left_and_resumes_exactly(trained, tiny_csv, tmp_path):  # noqa: F811
    _, onnx_path = trained
    config = tiny_run_config(tiny_csv, tmp_path / "a", epochs=2, lr=0.005, init=str(onnx_path))
    straight = train(config)
    assert straight.history[0]["val_accuracy"] >= 0.5  # the source had learnt the task already
    train(config.override(out=str(tmp_path / "b"), max_minutes=1e-9))
    resumed = train(config.override(out=str(tmp_path / "b")), resume=tmp_path / "b")
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
