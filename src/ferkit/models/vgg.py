"""VGG-style networks for 48×48 faces: stacks of 3×3 conv-BN-ReLU, max-pooling, a position-aware head."""

from __future__ import annotations

from torch import nn

from ferkit.face_size import FACE_SIZE
from ferkit.models.layers import FerNet, Normalize, conv_bn_relu
from ferkit.models.registry import register


class FerVGG(FerNet):
    """`convs_per_stage` convs at each width, then 2×2 max-pool; the final 3×3 map is flattened, so the
    head knows where on the (aligned) face each feature sits."""

    def __init__(
        self,
        widths: tuple[int, ...],
        convs_per_stage: int = 2,
        hidden: int = 256,
        num_classes: int = 7,
        dropout: float = 0.4,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [Normalize()]
        cin = 1
        for width in widths:
            for _ in range(convs_per_stage):
                layers.append(conv_bn_relu(cin, width))
                cin = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        side = FACE_SIZE // 2 ** len(widths)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(cin * side * side, hidden), nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(hidden, num_classes),
        )  # fmt: skip


@register("fer-vgg-s", "small VGG for CPUs: 2 convs per stage at 32-64-128-256, flatten 3×3, dense 256")
def fer_vgg_s(num_classes: int = 7) -> nn.Module:
    return FerVGG((32, 64, 128, 256), num_classes=num_classes)


@register("fer-vgg-m", "VGG 1.5× as wide as fer-vgg-s (48-96-192-384, 2 convs per stage): 0.7 ms/face in int8")
def fer_vgg_m(num_classes: int = 7) -> nn.Module:
    # In int8 it costs less at batch 1 than fer-vgg-s in fp32 (0.70 vs 1.10 ms on 2 cores,
    # benchmarks/net_latency.py): a wider net that still meets issue 13's 1.2 ms budget once quantised.
    return FerVGG((48, 96, 192, 384), num_classes=num_classes)


@register("fer-vgg-l", "large VGG for GPUs: 3 convs per stage at 64-128-256-512, dense 1024")
def fer_vgg_l(num_classes: int = 7) -> nn.Module:
    return FerVGG((64, 128, 256, 512), convs_per_stage=3, hidden=1024, num_classes=num_classes, dropout=0.5)
