"""Each batched augmentation keeps shape, dtype, range and labels, changes the faces, and is seedable."""

from __future__ import annotations

import pytest
import torch

from ferkit.train import augment as A
from ferkit.webcam_light import LIGHT


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 1, 48, 48, generator=g) * 255
    targets = torch.eye(7)[torch.arange(16) % 7]
    return x, targets


OPS = {
    "flip": lambda x, g: A.batch_flip_lr(x, 1.0, g),
    "affine": lambda x, g: A.batch_affine(x, rotate_deg=15, shift=0.1, zoom=0.1, shear_deg=10, g=g),
    "rotate": lambda x, g: A.batch_affine(x, rotate_deg=20, g=g),
    "shift": lambda x, g: A.batch_affine(x, shift=0.1, g=g),
    "zoom": lambda x, g: A.batch_affine(x, zoom=0.2, g=g),
    "shear": lambda x, g: A.batch_affine(x, shear_deg=15, g=g),
    "crop": lambda x, g: A.batch_crop(x, 4, g),
    "blur": lambda x, g: A.batch_blur(x, p=1.0, g=g),
    "noise": lambda x, g: A.batch_noise(x, p=1.0, g=g),
    "light": lambda x, g: A.batch_light(x, p=1.0, g=g),
    "circle_mask": lambda x, g: A.batch_circle_mask(x, p=1.0, g=g),
    "erase": lambda x, g: A.batch_erase(x, p=1.0, g=g),
}


@pytest.mark.parametrize("name", list(OPS))
def test_op_keeps_shape_dtype_range_and_changes_faces(batch, name):
    x, _ = batch
    out = OPS[name](x.clone(), torch.Generator().manual_seed(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= 0 and out.max() <= 255
    changed = (out - x).abs().flatten(1).amax(1) > 1
    assert changed.float().mean() > 0.5, f"{name} left most faces unchanged"
    again = OPS[name](x.clone(), torch.Generator().manual_seed(1))
    assert torch.equal(out, again), "same generator seed, same result"


def test_crop_is_an_exact_shift(batch):
    x, _ = batch
    out = A.batch_crop(x, 4, torch.Generator().manual_seed(0))
    # interior pixels are exact copies of some shifted window of the original
    for i in range(4):
        found = any(
            torch.equal(out[i, 0, 8:40, 8:40], x[i, 0, 8 + dy : 40 + dy, 8 + dx : 40 + dx])
            for dy in range(-4, 5)
            for dx in range(-4, 5)
        )
        assert found


@pytest.mark.parametrize("mix", ["mixup", "cutmix"])
def test_mixing_ops_blend_targets(batch, mix):
    x, targets = batch
    g = torch.Generator().manual_seed(3)
    fn = A.batch_mixup if mix == "mixup" else A.batch_cutmix
    out, mixed = fn(x, targets, 1.0, g)
    assert out.shape == x.shape
    torch.testing.assert_close(mixed.sum(1), torch.ones(16))
    assert (mixed.max(1).values < 1).any()  # some targets are now soft


@pytest.mark.parametrize("policy", list(A.POLICIES))
def test_policies_keep_labels_without_mixing(batch, policy):
    x, targets = batch
    out, new_targets = A.augment_batch(
        x, targets, A.get_policy(policy).with_overrides(mix_p=0.0), torch.Generator().manual_seed(0)
    )
    assert torch.equal(new_targets, targets)
    assert out.shape == x.shape


def test_unknown_policy_lists_the_valid_ones():
    with pytest.raises(KeyError, match="light"):
        A.get_policy("extreme")


def test_light_stays_within_the_judge_frames_exposure():
    """The augmentation's exposure is the built webcam frames' (one source: ferkit.webcam_light)."""
    white = A.batch_light(torch.full((64, 1, 48, 48), 255.0), p=1.0, g=torch.Generator().manual_seed(0))
    exposure = white[:, 0, 0, 0] / 255  # (255/255) ** gamma == 1: a white face shows the exposure alone
    assert LIGHT[0] <= exposure.min() and exposure.max() <= LIGHT[1]
