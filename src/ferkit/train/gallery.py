"""The augmentation gallery for `ferkit explore`: one face beside each augmentation, drawn by the real ops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ferkit.train import augment as A

# (title, op) — each op gets a batch of one face repeated, so one figure row shows its variety.
GALLERY = [
    ("flip", lambda x, g: A.batch_flip_lr(x, 1.0, g)),
    ("rotation ±20°", lambda x, g: A.batch_affine(x, rotate_deg=20, g=g)),
    ("shift ±10%", lambda x, g: A.batch_affine(x, shift=0.1, g=g)),
    ("zoom ±15%", lambda x, g: A.batch_affine(x, zoom=0.15, g=g)),
    ("shear ±15°", lambda x, g: A.batch_affine(x, shear_deg=15, g=g)),
    ("crop, pad 4", lambda x, g: A.batch_crop(x, 4, g)),
    ("gaussian blur", lambda x, g: A.batch_blur(x, max_sigma=1.5, p=1.0, g=g)),
    ("gaussian noise", lambda x, g: A.batch_noise(x, max_std=20, p=1.0, g=g)),
    ("circular mask", lambda x, g: A.batch_circle_mask(x, p=1.0, g=g)),
    ("random erasing", lambda x, g: A.batch_erase(x, p=1.0, g=g)),
]


def augmentation_gallery(faces: np.ndarray, out: Path, *, samples: int = 4, seed: int = 0) -> Path:
    """Rows: original + every op (and mixup/cutmix with a second face); columns: random draws."""
    from ferkit.data.figures import pyplot, save_figure

    plt = pyplot()
    g = torch.Generator().manual_seed(seed)
    face = torch.as_tensor(faces[0]).float()[None, None].repeat(samples, 1, 1, 1)
    other = torch.as_tensor(faces[1 % len(faces)]).float()[None, None]
    rows = [("original", face)] + [(title, op(face.clone(), g)) for title, op in GALLERY]
    pair = torch.cat([face[:1], other]).repeat(samples, 1, 1, 1)
    targets = torch.eye(2).repeat(samples, 1)
    rows.append(("mixup", A.batch_mixup(pair, targets, 1.0, g)[0][::2]))
    rows.append(("cutmix", A.batch_cutmix(pair, targets, 1.0, g)[0][::2]))
    fig, axes = plt.subplots(len(rows), samples, figsize=(samples * 1.3 + 1.2, len(rows) * 1.3))
    for r, (title, batch) in enumerate(rows):
        for c in range(samples):
            ax = axes[r, c]
            ax.imshow(batch[c, 0].clamp(0, 255).numpy(), cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
    return save_figure(fig, out)
