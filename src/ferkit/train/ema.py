"""Exponential moving average of a model's weights (and BN statistics), checkpointable."""

from __future__ import annotations

import copy

import torch
from torch import nn


class ModelEMA:
    """Keeps `decay`-weighted averages of every float tensor in the model's state; ints are copied."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        # Warm up the decay so early averages are not dominated by the random initialisation.
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for ema_t, t in zip(self.module.state_dict().values(), model.state_dict().values()):
            if ema_t.dtype.is_floating_point:
                ema_t.lerp_(t.detach(), 1 - decay)
            else:
                ema_t.copy_(t)

    def state_dict(self) -> dict:
        return {"decay": self.decay, "updates": self.updates, "weights": self.module.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.decay, self.updates = state["decay"], state["updates"]
        self.module.load_state_dict(state["weights"])
