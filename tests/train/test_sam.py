"""Sharpness-aware minimisation: the climb is undone, BatchNorm's statistics skip the second pass,
a SAM run learns and resumes exactly."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ferkit.errors import BadInput
from ferkit.train import train
from ferkit.train.sam import batchnorm_stats_frozen, climb, descend


def _net_with_gradients() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    net(torch.randn(5, 1, 8, 8)).logsumexp(1).mean().backward()
    return net


def test_the_climb_moves_the_weights_by_rho_and_descend_puts_them_back():
    net = _net_with_gradients()
    before = [p.detach().clone() for p in net.parameters()]
    moves = climb(net, rho=0.05)
    moved = torch.cat([(p - b).flatten() for p, b in zip(net.parameters(), before, strict=True)])
    assert torch.linalg.vector_norm(moved).item() == pytest.approx(0.05, rel=1e-4)  # the ball's radius
    # uphill: along the gradient
    gradient = torch.cat([p.grad.flatten() for p in net.parameters()])
    assert torch.dot(moved, gradient) > 0
    descend(moves)
    for p, b in zip(net.parameters(), before, strict=True):
        torch.testing.assert_close(p, b, rtol=0, atol=1e-7)


def test_the_second_pass_leaves_batchnorm_running_statistics_alone():
    net = _net_with_gradients()
    bn = net[1]
    mean, var, momentum = bn.running_mean.clone(), bn.running_var.clone(), bn.momentum
    with batchnorm_stats_frozen(net):
        net(torch.randn(5, 1, 8, 8) + 3)
    assert torch.equal(bn.running_mean, mean) and torch.equal(bn.running_var, var)
    assert bn.momentum == momentum
    net(torch.randn(5, 1, 8, 8) + 3)  # outside: updated as usual
    assert not torch.equal(bn.running_mean, mean)


def test_a_sam_run_learns(tiny_config):
    result = train(tiny_config.override(sam_rho=0.05, epochs=5, lr=0.02, augment="none"))
    assert result.best_accuracy > 0.5  # 7 classes: chance is 0.14


def test_a_sam_run_resumes_exactly(tiny_config, tmp_path):
    config = tiny_config.override(sam_rho=0.05)
    straight = train(config.override(out=str(tmp_path / "a")))
    # max_minutes tiny = stop after the first epoch (a budget per invocation: the resumed one ends the run)
    train(config.override(out=str(tmp_path / "b"), max_minutes=1e-9))
    resumed = train(config, resume=tmp_path / "b")
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert [h["val_accuracy"] for h in straight.history] == [h["val_accuracy"] for h in resumed.history]


def test_a_negative_radius_is_refused(tiny_config):
    with pytest.raises(BadInput, match="sam_rho"):
        train(tiny_config.override(sam_rho=-0.1))


def test_the_loop_takes_the_sam_step(tiny_config, tmp_path):
    plain = train(tiny_config.override(out=str(tmp_path / "plain"), epochs=1))
    sam = train(tiny_config.override(out=str(tmp_path / "sam"), epochs=1, sam_rho=0.05))
    weights = zip(plain.model.state_dict().values(), sam.model.state_dict().values(), strict=True)
    assert not all(torch.equal(a, b) for a, b in weights)
