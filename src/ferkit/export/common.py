"""What every exporter shares: the float model from a checkpoint, its metadata, and the parity check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ferkit.data.folds import HELD_OUT_KEY
from ferkit.errors import ModelError
from ferkit.face_size import FACE_SIZE
from ferkit.labels import SELECT_SPLIT
from ferkit.models.checkpoint import load_checkpoint, model_from_checkpoint


@dataclass(frozen=True)
class ExportReport:
    path: Path
    max_prob_difference: float | None  # None where no runtime exists on this OS (Core ML on Linux)
    faces_checked: int
    size_bytes: int
    details: tuple[str, ...] = ()  # what an inspection found, for formats checked by loading only


class WithSoftmax(torch.nn.Module):
    """Mobile apps want probabilities, not logits: softmax becomes part of the exported graph."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(faces), dim=1)


def float_model(checkpoint: str | Path) -> tuple[dict[str, Any], torch.nn.Module]:
    """The checkpoint's state and its network in fp32 eval mode (EMA weights when the run kept them)."""
    state = load_checkpoint(checkpoint)
    return state, model_from_checkpoint(state).float().eval()


def model_metadata(state: dict[str, Any]) -> dict[str, Any]:
    """Provenance every export carries (ONNX metadata props, the TFLite sidecar, Core ML user metadata)."""
    metadata = {
        "class_names": list(state["class_names"]),
        "model_name": state["model_name"],
        "trained_epoch": state["epoch"],
        "selected_on": state.get("selected_on", SELECT_SPLIT),
        "code_version": state.get("code_version", ""),
    }
    held_out = state.get("config", {}).get("hold_out", "")
    if held_out:  # the Training fold this model never saw: unseen faces its judge can be fitted on too
        metadata[HELD_OUT_KEY] = held_out
    return metadata


def random_faces(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, FACE_SIZE, FACE_SIZE), dtype=np.uint8)


def torch_probabilities(model: torch.nn.Module, faces: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(faces[:, None].astype(np.float32))), dim=1).numpy()


def checked_report(
    out: Path, got: np.ndarray, model: torch.nn.Module, faces: np.ndarray, tolerance: float, runtime: str
) -> ExportReport:
    """Compare an export's probabilities with torch's on the same faces; raise past the tolerance."""
    difference = float(np.abs(got - torch_probabilities(model, faces)).max())
    if difference > tolerance:
        raise ModelError(f"{out}: {runtime} probabilities differ from torch by {difference:.2e} (> {tolerance:g})")
    return ExportReport(out, difference, len(faces), out.stat().st_size)
