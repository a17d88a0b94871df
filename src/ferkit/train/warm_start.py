"""Start a run from a trained model's weights: a checkpoint, a run, or a ferkit ONNX export (even the shipped one).

Fine-tuning needs torch weights, but a shipped model may exist only as ONNX, where the export folded each
BatchNorm into the convolution before it. The folded weights are put back into conv + BatchNorm so the
network computes exactly what the ONNX file does in eval mode, and the BatchNorm statistics are measured
on real faces so that it also behaves the same in train mode (batch statistics) from the first step.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ferkit.models import create_model
from ferkit.models.checkpoint import CheckpointError, load_checkpoint
from ferkit.weights import resolve_model

# The rebuilt network must give the ONNX file's probabilities to within this (float32 rounding only).
MATCH_TOLERANCE = 1e-4


def warm_start(
    model: nn.Module, source: str | Path, model_name: str, class_names: tuple[str, ...], faces: np.ndarray
) -> list[str]:
    """Load `source`'s weights into `model` (built as `model_name` for `class_names`); notes on what was done.

    `faces` (N×48×48 uint8 training faces) measure the BatchNorm statistics of an ONNX source. When the
    source names other classes, everything but the last layer is loaded and the last layer starts afresh.
    """
    path = resolve_model(source)
    if path.suffix.lower() == ".onnx":
        weights, source_classes = _onnx_weights(model_name, path, faces)
    else:
        state = load_checkpoint(path)
        _same_network(path, state["model_name"], model_name)
        weights = state.get("ema_state") or state["model_state"]
        source_classes = tuple(state["class_names"])
    source_name = model_name
    notes = [f"started from {path} ({source_name}, classes {', '.join(source_classes)})"]
    if tuple(source_classes) != tuple(class_names):
        last = _last_linear_keys(model)
        weights = {k: v for k, v in weights.items() if k not in last}
        notes.append(f"its last layer was left out ({', '.join(sorted(last))}): this run's classes differ")
        model.load_state_dict(weights, strict=False)
    else:
        model.load_state_dict(weights)
    return notes


def _same_network(path: Path, source_name: str, model_name: str) -> None:
    if source_name != model_name:
        raise CheckpointError(f"{path}: holds a {source_name} network; this run trains {model_name}")


def _last_linear_keys(model: nn.Module) -> set[str]:
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    return {f"{name}.weight", f"{name}.bias"}


def _onnx_weights(model_name: str, path: Path, faces: np.ndarray) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """A state dict for a `model_name` network that computes what the ONNX file at `path` computes."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    if "model_name" not in meta or "class_names" not in meta:
        raise CheckpointError(f"{path}: not a single ferkit network (no model_name/class_names metadata)")
    _same_network(path, meta["model_name"], model_name)
    source_classes = tuple(json.loads(meta["class_names"]))
    tensors = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in proto.graph.initializer}
    onnx_convs = [
        (n.input[1], n.input[2] if len(n.input) > 2 else None) for n in proto.graph.node if n.op_type == "Conv"
    ]

    model = create_model(model_name, num_classes=len(source_classes)).eval()
    convs, norms = _convs_in_running_order(model)
    if len(convs) != len(onnx_convs):
        raise CheckpointError(f"{path}: has {len(onnx_convs)} convolutions; {type(model).__name__} has {len(convs)}")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state.update({k: v for k, v in tensors.items() if k in state})  # layers the export left unfolded
    folded_bias: dict[str, torch.Tensor] = {}
    for (name, conv), (weight, bias) in zip(convs, onnx_convs):
        if tuple(tensors[weight].shape) != tuple(conv.weight.shape):
            raise CheckpointError(
                f"{path}: convolution {weight} has shape {tuple(tensors[weight].shape)}, "
                f"{name} needs {tuple(conv.weight.shape)}"
            )
        state[f"{name}.weight"] = tensors[weight]
        b = tensors[bias] if bias else torch.zeros(conv.out_channels)
        norm = norms.get(name)
        if norm is None:
            state[f"{name}.bias"] = b
            continue
        # First an identity BatchNorm that adds the folded bias: exact in eval mode.
        state.update(
            {
                f"{norm}.running_mean": torch.zeros_like(b),
                f"{norm}.weight": torch.ones_like(b),
                f"{norm}.running_var": torch.full_like(b, 1 - _eps(model, norm)),
                f"{norm}.bias": b,
            }
        )
        folded_bias[name] = b
    model.load_state_dict(state)
    _measure_norms(model, {n: norms[n] for n in folded_bias}, folded_bias, faces)
    _check_same_output(model, path, faces[:256])
    return model.state_dict(), source_classes


def _eps(model: nn.Module, norm: str) -> float:
    return float(model.get_submodule(norm).eps)


def _convs_in_running_order(model: nn.Module) -> tuple[list[tuple[str, nn.Conv2d]], dict[str, str]]:
    """The convolutions in the order a forward pass runs them, and the BatchNorm run right after each."""
    order: list[tuple[str, nn.Module]] = []
    hooks = [
        m.register_forward_hook(lambda mod, _i, _o, n=n: order.append((n, mod)))
        for n, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))
    ]
    with torch.no_grad():
        model(torch.zeros(2, 1, 48, 48))
    for h in hooks:
        h.remove()
    convs = [(n, m) for n, m in order if isinstance(m, nn.Conv2d)]
    norms = {}
    for (name, mod), (next_name, next_mod) in itertools.pairwise(order):
        if (
            isinstance(mod, nn.Conv2d)
            and isinstance(next_mod, nn.BatchNorm2d)
            and next_mod.num_features == mod.out_channels
        ):
            norms[name] = next_name
    return convs, norms


def _measure_norms(model: nn.Module, norms: dict[str, str], bias: dict[str, torch.Tensor], faces: np.ndarray) -> None:
    """Give each unfolded BatchNorm the statistics its convolution's output has on real faces.

    With mean m and variance v measured, BN(y) = (y − m)/√(v+ε)·√(v+ε) + (m + b) = y + b: eval mode is
    unchanged, and train mode (which normalises by the batch's own m and v) starts where eval mode is.
    """
    sums: dict[str, list[torch.Tensor]] = {n: [] for n in norms}
    convs = dict(model.named_modules())
    hooks = [convs[n].register_forward_hook(lambda _m, _i, out, n=n: sums[n].append(out.detach())) for n in norms]
    with torch.no_grad():
        model(torch.as_tensor(np.asarray(faces[:1024]), dtype=torch.float32)[:, None])
    for h in hooks:
        h.remove()
    state: dict[str, Any] = {}
    for name, norm in norms.items():
        out = torch.cat(sums[name])
        mean, var = out.mean(dim=(0, 2, 3)), out.var(dim=(0, 2, 3), unbiased=False)
        eps = _eps(model, norm)
        state.update(
            {
                f"{norm}.running_mean": mean,
                f"{norm}.running_var": var,
                f"{norm}.weight": torch.sqrt(var + eps),
                f"{norm}.bias": mean + bias[name],
            }
        )
    model.load_state_dict(state, strict=False)


def _check_same_output(model: nn.Module, path: Path, faces: np.ndarray) -> None:
    from ferkit.weights.onnx_classifier import OnnxClassifier

    expected = OnnxClassifier(path, rule="as-trained").predict_proba(np.asarray(faces))
    with torch.no_grad():
        got = torch.softmax(model(torch.as_tensor(np.asarray(faces), dtype=torch.float32)[:, None]), 1).numpy()
    gap = float(np.abs(got - expected).max())
    if gap > MATCH_TOLERANCE:
        raise CheckpointError(f"{path}: its weights do not map onto this network (probabilities differ by {gap:.2g})")
