"""The two networks of the notebooks this project grew from, layer for layer."""

from __future__ import annotations

from torch import nn

from ferkit.models.layers import FerNet, Normalize
from ferkit.models.registry import register


class SeedLeNet(FerNet):
    """LeNet-style: four valid 3×3 convs (64/128/256/512), each + ReLU, 2×2 max-pool, batch norm."""

    def __init__(self, num_classes: int = 7) -> None:
        super().__init__()
        blocks: list[nn.Module] = [Normalize()]
        cin = 1
        for cout in (64, 128, 256, 512):  # 48 -> 46/23 -> 21/10 -> 8/4 -> 2/1
            blocks += [nn.Conv2d(cin, cout, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.BatchNorm2d(cout)]
            cin = cout
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(512, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(256, num_classes),
        )


class SeedVGG(FerNet):
    """The Best Actor net: four stacks of two 3×3 convs with BN, 3×3/2 max-pool, dropout 0.3; dense 512-256-64.

    Matches the notebook's Keras summary: 5,098,951 trainable parameters.
    """

    def __init__(self, num_classes: int = 7) -> None:
        super().__init__()
        layers: list[nn.Module] = [Normalize()]
        cin = 1
        for stage, cout in enumerate((64, 128, 256, 512)):  # 48 -> 46 -> 22 -> 10 -> 4 -> 1
            for k in range(2):
                padding = 0 if stage == 0 and k == 0 else 1  # only the very first conv is 'valid'
                layers += [nn.Conv2d(cin, cout, 3, padding=padding), nn.ReLU(inplace=True), nn.BatchNorm2d(cout)]
                cin = cout
            layers += [nn.MaxPool2d(3, stride=2), nn.Dropout(0.3)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(512, 512), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Linear(512, 256), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Linear(256, 64), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Linear(64, num_classes),
        )  # fmt: skip


@register("seed-lenet", "the LeNet-style notebook net: 4 valid convs 64-512, dense 256")
def seed_lenet(num_classes: int = 7) -> nn.Module:
    return SeedLeNet(num_classes)


@register("seed-vgg", "the Best Actor notebook net: 8 convs 64-512 in 4 stacks, dense 512-256-64")
def seed_vgg(num_classes: int = 7) -> nn.Module:
    return SeedVGG(num_classes)
