"""Class imbalance: oversampling (inside the training split only), a balanced sampler, loss weights."""

from __future__ import annotations

import numpy as np
import torch

from ferkit.errors import UnknownName


def class_weights(labels: np.ndarray, num_classes: int) -> torch.Tensor:
    """Inverse-frequency weights, scaled so that the average face has weight 1."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, len(labels) / (num_classes * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


def epoch_indices(labels: np.ndarray, mode: str, g: torch.Generator) -> torch.Tensor:
    """Training-set positions for one epoch, shuffled.

    - none / weighted: every face once.
    - oversample: every face once, plus random repeats of smaller classes up to the largest class
      (the notebook's oversampling-by-augmentation: repeats are augmented afresh in each batch).
    - sampler: as many draws as faces, each class equally likely.
    """
    n = len(labels)
    if mode in ("none", "weighted"):
        return torch.randperm(n, generator=g)
    label_t = torch.as_tensor(labels, dtype=torch.long)
    classes = torch.unique(label_t)
    if mode == "oversample":
        largest = int(torch.bincount(label_t).max())
        parts = [torch.arange(n)]
        for c in classes:
            members = torch.nonzero(label_t == c).flatten()
            extra = largest - len(members)
            if extra > 0:
                parts.append(members[torch.randint(len(members), (extra,), generator=g)])
        picked = torch.cat(parts)
        return picked[torch.randperm(len(picked), generator=g)]
    if mode == "sampler":
        counts = torch.bincount(label_t).float()
        weights = 1.0 / counts[label_t]
        return torch.multinomial(weights, n, replacement=True, generator=g)
    raise UnknownName(f"unknown balance mode {mode!r}; choose one of: none, oversample, sampler, weighted")
