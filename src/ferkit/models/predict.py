"""Batched forward passes over uint8 faces: logits or probabilities, no augmentation."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import nn


def autocast_context(device: torch.device, enabled: bool):
    """bf16 autocast where asked, else a null context: one code path for CPU and GPU."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    faces: np.ndarray | torch.Tensor,
    *,
    batch_size: int = 512,
    device: torch.device | str = "cpu",
    amp: bool = False,
    channels_last: bool = False,
    flip_tta: bool = False,
) -> torch.Tensor:
    """Logits (float32, on CPU) for N×48×48 uint8 faces; `flip_tta` averages with the mirrored face."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    data = torch.as_tensor(np.asarray(faces)) if not isinstance(faces, torch.Tensor) else faces
    out = []
    for start in range(0, len(data), batch_size):
        x = data[start : start + batch_size].to(device, non_blocking=True).unsqueeze(1).float()
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast_context(device, amp):
            logits = model(x).float()
            if flip_tta:
                logits = (logits + model(x.flip(-1)).float()) / 2
        out.append(logits.cpu())
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0)
