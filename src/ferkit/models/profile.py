"""Parameter counts and multiply-adds per face, measured by hooks on the layers that do the work."""

from __future__ import annotations

import torch
from torch import nn

from ferkit.face_size import FACE_SIZE


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def multiply_adds(model: nn.Module, input_size: tuple[int, int] = (FACE_SIZE, FACE_SIZE)) -> int:
    """Multiply-accumulates of one forward pass on one face (convolutions and linear layers)."""
    total = 0

    def conv_hook(module: nn.Conv2d, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        total += output[0].numel() * k

    def linear_hook(module: nn.Linear, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        total += module.in_features * module.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, *input_size))
    model.train(was_training)
    for h in hooks:
        h.remove()
    return total
