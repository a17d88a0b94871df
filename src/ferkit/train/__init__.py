"""Training: batched augmentation, class balancing, the fit loop, checkpoints, mining, DDP."""

from ferkit.train.config import RECIPES, TrainConfig, recipe_config
from ferkit.train.loop import TrainingDiverged, TrainResult, train

__all__ = ["RECIPES", "TrainConfig", "TrainResult", "TrainingDiverged", "recipe_config", "train"]
