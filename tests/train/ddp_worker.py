"""Run under torchrun by test_ddp.py: train on the tiny set, save this rank's final parameters."""

import os
import sys

import torch

from ferkit.train import recipe_config, train

csv_path, out = sys.argv[1], sys.argv[2]
cfg = recipe_config(
    "smoke", data=csv_path, out=out, model="fer-vgg-s", epochs=2, batch_size=8, lr=0.01, device="cpu", ema_decay=0.9
)
result = train(cfg)
params = {name: p.detach() for name, p in result.model.named_parameters()}
torch.save(params, os.path.join(out, f"rank{os.environ['RANK']}.pt"))
