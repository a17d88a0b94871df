"""Every registered network: output shape, finite outputs, a gradient for every parameter."""

from __future__ import annotations

import pytest
import torch

from ferkit.models import count_parameters, create_model, list_models, multiply_adds

NAMES = [spec.name for spec in list_models()]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("num_classes", [7, 8])
def test_forward_shape_and_gradients(name, num_classes):
    torch.manual_seed(0)
    model = create_model(name, num_classes=num_classes).train()
    x = torch.rand(3, 1, 48, 48) * 255  # raw pixels: the model normalises itself
    logits = model(x)
    assert logits.shape == (3, num_classes)
    assert torch.isfinite(logits).all()
    logits.logsumexp(1).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    feats = model.eval().forward_features(x)
    assert torch.allclose(model.forward_head(feats), model(x), atol=1e-5)


def test_seed_vgg_matches_the_notebook_summary():
    model = create_model("seed-vgg")
    assert count_parameters(model) == 5_098_951
    running = sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    assert count_parameters(model) + running == 5_102_791  # Keras counts BN running stats as parameters


def test_seed_lenet_layers():
    model = create_model("seed-lenet")
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512]
    assert all(c.padding == (0, 0) and c.kernel_size == (3, 3) for c in convs)
    assert [m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)] == [256, 7]


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(KeyError, match="fer-vgg-s"):
        create_model("resnet-9000")


def test_multiply_adds_are_counted():
    assert 50e6 < multiply_adds(create_model("seed-lenet")) < 70e6
    assert multiply_adds(create_model("fer-resnet18")) > multiply_adds(create_model("fer-resnet-s"))
