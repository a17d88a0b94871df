"""Building blocks shared by the networks: input normalisation and conv-BN-ReLU units."""

from __future__ import annotations

import torch
from torch import nn

# FER2013 Training pixel statistics (0-255 scale), so every model takes raw gray pixels as input.
PIXEL_MEAN = 129.4
PIXEL_STD = 65.0


class Normalize(nn.Module):
    """Raw 0-255 gray pixels in, standardised values out: callers (export, inference) never rescale."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - PIXEL_MEAN) / PIXEL_STD


def conv_bn_relu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class FerNet(nn.Module):
    """Base class: `forward_features` (map) then `forward_head` (logits), timm-style.

    Subclasses either define `self.features` and `self.head` or override both methods.
    """

    features: nn.Module
    head: nn.Module

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
