"""Sharpness-aware minimisation (Foret et al., 2021): step with the gradient at the worst nearby weights.

Each batch costs two forward-backward passes: the first finds the gradient g, the weights move by
rho·g/‖g‖ (uphill, the worst point within a ball of radius rho to first order), the second pass takes the
gradient there, the weights move back, and the optimiser steps with that second gradient. Flat minima
generalise better, and SAM was found robust to noisy labels (FER2013's are: FER+'s ten annotators disagree
with about a third of them). The perturbation is stateless, so exact resume is unaffected.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@torch.no_grad()
def climb(model: nn.Module, rho: float) -> list[tuple[nn.Parameter, torch.Tensor]]:
    """Move every parameter with a gradient by rho·g/‖g‖ (one norm over all of them); return the moves."""
    params = [p for p in model.parameters() if p.grad is not None]
    if not params:
        return []
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad.float()) for p in params]))
    scale = rho / (norm + 1e-12)
    moves = []
    for p in params:
        move = (p.grad.float() * scale).to(p.dtype)
        p.add_(move)
        moves.append((p, move))
    return moves


@torch.no_grad()
def descend(moves: list[tuple[nn.Parameter, torch.Tensor]]) -> None:
    """Put the weights back where `climb` found them (the gradients stay those of the climbed point)."""
    for p, move in moves:
        p.sub_(move)


@contextmanager
def batchnorm_stats_frozen(model: nn.Module) -> Iterator[None]:
    """The second pass sees the same batch at perturbed weights: keep it out of BatchNorm's running statistics
    (momentum 0 leaves them as they are; the batch's own statistics still normalise the pass)."""
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in layers]
    for m in layers:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum in zip(layers, saved, strict=True):
            m.momentum = momentum
