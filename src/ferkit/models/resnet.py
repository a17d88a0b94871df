"""Residual networks designed for 48×48 faces: a small one for laptop CPUs, a large one for GPUs."""

from __future__ import annotations

import torch
from torch import nn

from ferkit.face_size import FACE_SIZE
from ferkit.models.layers import FerNet, Normalize, conv_bn_relu
from ferkit.models.registry import register


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1, zero_init: bool = False) -> None:
        super().__init__()
        self.conv1 = conv_bn_relu(cin, cout, stride)
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        self.relu = nn.ReLU(inplace=True)
        if zero_init:  # each block starts as identity (helps very deep nets; slows shallow ones)
            nn.init.zeros_(self.conv2[1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.conv1(x)) + self.shortcut(x))


class FerResNet(FerNet):
    """Stem conv at full 48×48 resolution, then stages of basic blocks, global pooling, dropout, linear."""

    def __init__(
        self,
        widths: tuple[int, ...],
        depths: tuple[int, ...],
        num_classes: int = 7,
        dropout: float = 0.2,
        head: str = "gap",
    ) -> None:
        super().__init__()
        self.normalize = Normalize()
        self.stem = conv_bn_relu(1, widths[0])
        stages: list[nn.Module] = []
        cin = widths[0]
        for i, (width, depth) in enumerate(zip(widths, depths)):
            blocks = [BasicBlock(cin, width, stride=1 if i == 0 else 2)]
            blocks += [BasicBlock(width, width) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            cin = width
        self.stages = nn.Sequential(*stages)
        # 'flatten' keeps where a feature is (faces are aligned: mouth below eyes); 'gap' averages it away.
        self.pool = nn.AdaptiveAvgPool2d(1) if head == "gap" else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        side = FACE_SIZE // 2 ** (len(widths) - 1)
        self.fc = nn.Linear(cin if head == "gap" else cin * side * side, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(self.normalize(x)))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(torch.flatten(self.pool(features), 1)))


@register("fer-resnet-s", "small ResNet for CPUs: widths 32-64-128-256, one block per stage")
def fer_resnet_s(num_classes: int = 7) -> nn.Module:
    return FerResNet((32, 64, 128, 256), (1, 1, 1, 1), num_classes)


@register("fer-resnet18", "ResNet-18 for 48×48 faces (GPU): widths 64-512, blocks 2-2-2-2")
def fer_resnet18(num_classes: int = 7) -> nn.Module:
    return FerResNet((64, 128, 256, 512), (2, 2, 2, 2), num_classes, dropout=0.3)
