"""Batched augmentation on the training device: every op takes and returns an N×1×48×48 float batch (0-255).

No per-image Python or PIL in the hot loop: each op draws per-sample parameters as tensors and
applies them to the whole batch at once. Ops that mix faces (mixup, cutmix) also return soft targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import torch
import torch.nn.functional as F

from ferkit.errors import UnknownName
from ferkit.face_size import CROP_PAD
from ferkit.webcam_light import GAMMA, LIGHT


def _rand(n: int, g: torch.Generator | None, device: torch.device) -> torch.Tensor:
    return torch.rand(n, generator=g, device=device)


def _chosen(n: int, p: float, g: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """Which samples an op applies to (N×1×1×1 bool)."""
    return (_rand(n, g, device) < p).view(n, 1, 1, 1)


def batch_flip_lr(x: torch.Tensor, p: float = 0.5, g: torch.Generator | None = None) -> torch.Tensor:
    """Mirror a random half of the faces left-right (expressions are left-right symmetric)."""
    return torch.where(_chosen(len(x), p, g, x.device), x.flip(-1), x)


def batch_affine(
    x: torch.Tensor,
    *,
    rotate_deg: float = 0.0,
    shift: float = 0.0,
    zoom: float = 0.0,
    shear_deg: float = 0.0,
    p: float = 1.0,
    g: torch.Generator | None = None,
) -> torch.Tensor:
    """Random rotation, shift (fraction of the side), zoom (±fraction) and shear in one resampling."""
    n, dev = len(x), x.device

    def sym(limit: float) -> torch.Tensor:
        return (_rand(n, g, dev) * 2 - 1) * limit

    angle = sym(math.radians(rotate_deg))
    shear = sym(math.radians(shear_deg))
    scale = 1 + sym(zoom)
    tx, ty = sym(2 * shift), sym(2 * shift)  # affine_grid coordinates span [-1, 1]
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([
        torch.stack([cos / scale, (-sin + torch.tan(shear) * cos) / scale, tx], dim=1),
        torch.stack([sin / scale, (cos + torch.tan(shear) * sin) / scale, ty], dim=1),
    ], dim=1)  # fmt: skip
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    moved = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return torch.where(_chosen(n, p, g, dev), moved, x)


def batch_crop(x: torch.Tensor, pad: int = 4, g: torch.Generator | None = None) -> torch.Tensor:
    """Random crop of the original size from the face padded by `pad` pixels (edge-replicated)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=g, device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=g, device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, :, None]  # N×H×1
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, :]  # N×1×W
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded[batch, 0, rows, cols].unsqueeze(1)


def batch_blur(
    x: torch.Tensor, max_sigma: float = 1.2, p: float = 0.2, g: torch.Generator | None = None
) -> torch.Tensor:
    """Gaussian blur with a random sigma per face (5×5 separable kernel, faces as conv groups)."""
    n, dev = len(x), x.device
    sigma = 0.3 + _rand(n, g, dev) * (max_sigma - 0.3)
    taps = torch.arange(-2, 3, device=dev, dtype=x.dtype)
    kernel = torch.exp(-(taps[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # N×5
    faces = x.transpose(0, 1)  # 1×N×H×W: one group per face
    faces = F.conv2d(F.pad(faces, (2, 2, 0, 0), mode="replicate"), kernel.view(n, 1, 1, 5), groups=n)
    faces = F.conv2d(F.pad(faces, (0, 0, 2, 2), mode="replicate"), kernel.view(n, 1, 5, 1), groups=n)
    return torch.where(_chosen(n, p, g, dev), faces.transpose(0, 1), x)


def batch_noise(
    x: torch.Tensor, max_std: float = 10.0, p: float = 0.2, g: torch.Generator | None = None
) -> torch.Tensor:
    """Additive gaussian noise with a random strength per face (in 0-255 pixel units)."""
    n, dev = len(x), x.device
    std = (_rand(n, g, dev) * max_std).view(n, 1, 1, 1)
    noisy = (x + torch.randn(x.shape, generator=g, device=dev, dtype=x.dtype) * std).clamp(0, 255)
    return torch.where(_chosen(n, p, g, dev), noisy, x)


def batch_light(
    x: torch.Tensor,
    gamma: tuple[float, float] = GAMMA,
    light: tuple[float, float] = LIGHT,
    p: float = 0.5,
    g: torch.Generator | None = None,
) -> torch.Tensor:
    """A webcam's light per face: 255 * (x / 255) ** gamma * light, each drawn uniformly from the frames' ranges."""
    n, dev = len(x), x.device
    gammas = (gamma[0] + _rand(n, g, dev) * (gamma[1] - gamma[0])).view(n, 1, 1, 1)
    lights = (light[0] + _rand(n, g, dev) * (light[1] - light[0])).view(n, 1, 1, 1)
    lit = 255 * (x.clamp(0, 255) / 255) ** gammas * lights
    return torch.where(_chosen(n, p, g, dev), lit, x)


def batch_circle_mask(
    x: torch.Tensor, radius: float = 0.5, p: float = 0.5, g: torch.Generator | None = None
) -> torch.Tensor:
    """The notebook's circular mask: black outside a centred circle (radius as a fraction of the side)."""
    n, _, h, w = x.shape
    ys = (torch.arange(h, device=x.device) - (h - 1) / 2) / h
    xs = (torch.arange(w, device=x.device) - (w - 1) / 2) / w
    inside = (ys[:, None] ** 2 + xs[None, :] ** 2) <= radius**2
    return torch.where(_chosen(n, p, g, x.device) & ~inside, torch.zeros_like(x), x)


def batch_erase(
    x: torch.Tensor, p: float = 0.25, area: tuple[float, float] = (0.02, 0.2), g: torch.Generator | None = None
) -> torch.Tensor:
    """Random erasing: one rectangle per chosen face filled with noise (aspect ratio 0.3-3.3)."""
    n, _, h, w = x.shape
    dev = x.device
    frac = area[0] + _rand(n, g, dev) * (area[1] - area[0])
    log_ratio = (_rand(n, g, dev) * 2 - 1) * math.log(3.3)
    ratio = torch.exp(log_ratio)
    eh = (torch.sqrt(frac * ratio) * h).clamp(1, h).long()
    ew = (torch.sqrt(frac / ratio) * w).clamp(1, w).long()
    y0 = (_rand(n, g, dev) * (h - eh + 1).float()).long()
    x0 = (_rand(n, g, dev) * (w - ew + 1).float()).long()
    rows = torch.arange(h, device=dev)[None, :]
    cols = torch.arange(w, device=dev)[None, :]
    in_rows = (rows >= y0[:, None]) & (rows < (y0 + eh)[:, None])  # N×H
    in_cols = (cols >= x0[:, None]) & (cols < (x0 + ew)[:, None])  # N×W
    box = (in_rows[:, :, None] & in_cols[:, None, :]).unsqueeze(1) & _chosen(n, p, g, dev)
    fill = torch.rand(x.shape, generator=g, device=dev, dtype=x.dtype) * 255
    return torch.where(box, fill, x)


def batch_mixup(
    x: torch.Tensor, targets: torch.Tensor, alpha: float = 0.2, g: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Blend each face with another of the batch; soft targets blend the same way."""
    lam = _beta(alpha, g)
    perm = torch.randperm(len(x), generator=g, device=x.device)
    return lam * x + (1 - lam) * x[perm], lam * targets + (1 - lam) * targets[perm]


def batch_cutmix(
    x: torch.Tensor, targets: torch.Tensor, alpha: float = 1.0, g: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Paste a box from another face of the batch; targets are mixed by the pasted area."""
    n, _, h, w = x.shape
    lam = _beta(alpha, g)
    cut = math.sqrt(1 - lam)
    bh, bw = int(h * cut), int(w * cut)
    cy = int(torch.randint(0, h, (1,), generator=g, device=x.device))
    cx = int(torch.randint(0, w, (1,), generator=g, device=x.device))
    y0, y1 = max(cy - bh // 2, 0), min(cy + bh // 2, h)
    x0, x1 = max(cx - bw // 2, 0), min(cx + bw // 2, w)
    perm = torch.randperm(n, generator=g, device=x.device)
    mixed = x.clone()
    mixed[:, :, y0:y1, x0:x1] = x[perm, :, y0:y1, x0:x1]
    kept = 1 - (y1 - y0) * (x1 - x0) / (h * w)
    return mixed, kept * targets + (1 - kept) * targets[perm]


def _beta(alpha: float, g: torch.Generator | None) -> float:
    # Beta(a, a) from two gammas drawn with our generator, so a seeded run is reproducible.
    device = g.device if g is not None else torch.device("cpu")
    a = torch._standard_gamma(torch.full((2,), alpha, device=device), generator=g)
    return float(a[0] / a.sum())


@dataclass(frozen=True)
class AugmentPolicy:
    """Which ops run and how strongly; probabilities are per face."""

    flip: float = 0.0
    crop_pad: int = 0
    affine_p: float = 0.0
    rotate_deg: float = 0.0
    shift: float = 0.0
    zoom: float = 0.0
    shear_deg: float = 0.0
    blur_p: float = 0.0
    noise_p: float = 0.0
    light_p: float = 0.0  # a webcam's gamma and exposure (batch_light)
    circle_mask_p: float = 0.0
    erase_p: float = 0.0
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    mix_p: float = 0.0  # chance that a batch gets mixup or cutmix

    def with_overrides(self, **changes: float) -> AugmentPolicy:
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise UnknownName(f"unknown augmentation setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)


POLICIES: dict[str, AugmentPolicy] = {
    "none": AugmentPolicy(),
    # The notebooks' ImageDataGenerator settings, plus their circular mask.
    "seed": AugmentPolicy(flip=0.5, affine_p=1.0, rotate_deg=10, shift=0.1, zoom=0.1, shear_deg=10,
                          circle_mask_p=0.2),
    # Light and fast: crops, flips, small affine, erasing.
    "light": AugmentPolicy(flip=0.5, crop_pad=CROP_PAD, affine_p=0.5, rotate_deg=10, zoom=0.1, erase_p=0.25),
    # Light, plus what a webcam frame does to a face after the detector: framing that differs from the
    # dataset's (more zoom and shift), a webcam's gamma and exposure, and softer focus. For the game's judge.
    "webcam": AugmentPolicy(flip=0.5, crop_pad=CROP_PAD, affine_p=0.6, rotate_deg=10, shift=0.04, zoom=0.15,
                            light_p=0.5, blur_p=0.2, erase_p=0.25),
    # Strong's geometry and erasing without mixup/cutmix: regularises a long schedule (150 epochs of light
    # overfit in their last 40) without the mixed targets that slowed a 40-epoch run by 1.7 points.
    "medium": AugmentPolicy(flip=0.5, crop_pad=CROP_PAD, affine_p=0.8, rotate_deg=15, shift=0.05, zoom=0.15,
                            shear_deg=8, erase_p=0.5),
    # Medium, plus a webcam's gamma and exposure and soft focus (webcam's light_p and blur_p): faces dimmed or
    # brightened lose ~1 point of the shipped model's accuracy (scenes' lighting on PublicTest crops, session 32).
    "medium-webcam": AugmentPolicy(flip=0.5, crop_pad=CROP_PAD, affine_p=0.8, rotate_deg=15, shift=0.05, zoom=0.15,
                                   shear_deg=8, light_p=0.5, blur_p=0.2, erase_p=0.5),
    # Heavy, for long GPU schedules.
    "strong": AugmentPolicy(flip=0.5, crop_pad=CROP_PAD, affine_p=0.8, rotate_deg=15, shift=0.05, zoom=0.15,
                            shear_deg=8, blur_p=0.1, noise_p=0.1, erase_p=0.5, mixup_alpha=0.2,
                            cutmix_alpha=1.0, mix_p=0.5),
}  # fmt: skip


def get_policy(name: str) -> AugmentPolicy:
    if name not in POLICIES:
        raise UnknownName(f"unknown augmentation policy {name!r}; choose one of: {', '.join(POLICIES)}")
    return POLICIES[name]


def augment_batch(
    x: torch.Tensor, targets: torch.Tensor, policy: AugmentPolicy, g: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply a policy to a float batch (N×1×48×48, 0-255) and its soft targets (N×C)."""
    if policy.crop_pad:
        x = batch_crop(x, policy.crop_pad, g)
    if policy.affine_p:
        x = batch_affine(
            x,
            rotate_deg=policy.rotate_deg,
            shift=policy.shift,
            zoom=policy.zoom,
            shear_deg=policy.shear_deg,
            p=policy.affine_p,
            g=g,
        )
    if policy.flip:
        x = batch_flip_lr(x, policy.flip, g)
    if policy.blur_p:
        x = batch_blur(x, p=policy.blur_p, g=g)
    if policy.noise_p:
        x = batch_noise(x, p=policy.noise_p, g=g)
    if policy.light_p:
        x = batch_light(x, p=policy.light_p, g=g)
    if policy.circle_mask_p:
        x = batch_circle_mask(x, p=policy.circle_mask_p, g=g)
    if policy.erase_p:
        x = batch_erase(x, p=policy.erase_p, g=g)
    if policy.mix_p and float(torch.rand(1, generator=g, device=x.device)) < policy.mix_p:
        use_cutmix = policy.cutmix_alpha > 0 and (
            policy.mixup_alpha <= 0 or float(torch.rand(1, generator=g, device=x.device)) < 0.5
        )
        if use_cutmix:
            x, targets = batch_cutmix(x, targets, policy.cutmix_alpha, g)
        elif policy.mixup_alpha > 0:
            x, targets = batch_mixup(x, targets, policy.mixup_alpha, g)
    return x, targets
