"""Checkpoints: everything `evaluate`, `export` and `--resume` need, written atomically, read with clear errors."""

from __future__ import annotations

import contextlib
import errno
import pickle
import shutil
import subprocess
from pathlib import Path
from typing import Any

import torch
from torch import nn

import ferkit
from ferkit.errors import ModelError
from ferkit.files import atomic_write
from ferkit.models import create_model

FORMAT = "ferkit-checkpoint-v1"


class CheckpointError(ModelError):
    """A checkpoint file that cannot be used; the message names the file and what was wrong."""


def code_version() -> str:
    """ferkit's version, plus the git commit when run from a checkout."""
    version = ferkit.__version__
    with contextlib.suppress(Exception):
        root = Path(__file__).resolve().parents[3]
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        if commit:
            version += f"+g{commit}"
    return version


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """torch.save through a temp file + rename: a kill mid-write never leaves a half checkpoint.

    A failed write (full disk, I/O error) is a CheckpointError in words; the previous file stays whole.
    """
    try:
        atomic_write(path, lambda f: torch.save({"format": FORMAT, **state}, f))
    except OSError as e:
        problem = "the disk is full" if e.errno == errno.ENOSPC else e.strerror or str(e)
        raise CheckpointError(f"{path}: cannot save the checkpoint: {problem}{_kept(path)}") from None
    except RuntimeError as e:
        # torch's zip writer reports a short write as "unexpected pos N vs M": a disk that filled up
        if "unexpected pos" not in str(e):
            raise
        free = shutil.disk_usage(path.parent).free
        raise CheckpointError(
            f"{path}: cannot save the checkpoint: the disk is full ({free:,} bytes free){_kept(path)}"
        ) from None


def _kept(path: Path) -> str:
    return "; the previous checkpoint there is unchanged" if path.exists() else ""


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint (on CPU); a missing, truncated or foreign file raises CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        # weights_only: the unpickler builds only tensors and plain containers, so a hostile file cannot
        # run code. Checkpoints hold nothing else (state dicts, numbers, strings, lists, dicts).
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{path}: refused: it holds objects a ferkit checkpoint never contains, and loading them could run "
            f"code ({_refused_global(str(e))})"
        ) from None
    except Exception as e:  # truncated zip, not a torch file
        raise CheckpointError(f"{path}: not a readable checkpoint (truncated or corrupt?): {e}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a ferkit checkpoint (expected format {FORMAT})")
    for key in ("model_name", "num_classes", "model_state", "config", "class_names"):
        if key not in state:
            raise CheckpointError(f"{path}: checkpoint lacks {key!r}")
    return state


def _refused_global(message: str) -> str:
    """The line of torch's refusal that names the blocked object (its advice to disable the check is dropped)."""
    lines = [line for line in message.splitlines() if "GLOBAL" in line]
    return lines[0].strip().rstrip(".") if lines else "unpickling refused"


def model_from_checkpoint(state: dict[str, Any], *, prefer_ema: bool = True) -> nn.Module:
    """Rebuild the network and load its weights (the EMA weights when the run kept them)."""
    model = create_model(state["model_name"], num_classes=state["num_classes"])
    weights = state.get("ema_state") if prefer_ema and state.get("ema_state") else state["model_state"]
    model.load_state_dict(weights)
    model.eval()
    return model
