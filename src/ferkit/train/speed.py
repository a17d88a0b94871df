"""Training throughput of a registered net on a device: faces/s and achieved GFLOP/s, from a few real steps."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from ferkit.face_size import FACE_SHAPE
from ferkit.models import create_model, multiply_adds
from ferkit.models.predict import autocast_context


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_throughput(
    name: str,
    batch: int,
    steps: int,
    *,
    amp: bool,
    device: torch.device | str = "cpu",
    channels_last: bool = True,
    compile: bool = False,
) -> tuple[float, float]:
    """(faces/s, GFLOP/s) of SGD steps on random faces; the first step (kernel warm-up, and compiling
    when `compile`) is not timed."""
    device = torch.device(device)
    torch.manual_seed(0)
    model = create_model(name)
    macs = multiply_adds(model)
    model = model.to(device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    step_model = torch.compile(model) if compile else model
    x = (torch.rand(batch, *FACE_SHAPE, device=device) * 255).contiguous(
        memory_format=torch.channels_last if channels_last else torch.contiguous_format
    )
    y = torch.randint(0, 7, (batch,), device=device)
    start = time.perf_counter()
    for step in range(steps + 1):
        if step == 1:
            _sync(device)
            start = time.perf_counter()
        with autocast_context(device, amp):
            loss = F.cross_entropy(step_model(x).float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    _sync(device)
    faces_per_s = batch * steps / (time.perf_counter() - start)
    # forward + backward ≈ 3× the forward multiply-adds, 2 FLOPs each
    return faces_per_s, faces_per_s * macs * 3 * 2 / 1e9
