"""Hard-example mining, as Best Actor meant it but done right: mine the TRAINING faces the model gets
wrong, fine-tune with them mixed into normal batches, and report PublicTest before and after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ferkit.data import load_faces
from ferkit.data.ferplus import ferplus_majority
from ferkit.errors import BadInput
from ferkit.labels import FERPLUS_TO_FER2013, TRAIN_SPLIT
from ferkit.models.checkpoint import load_checkpoint
from ferkit.models.predict import predict_logits
from ferkit.train.config import TrainConfig
from ferkit.train.distributed import setup_runtime, teardown_runtime
from ferkit.train.loop import Trainer, refuse_to_overwrite


@dataclass(frozen=True)
class MiningResult:
    hard_examples: int
    training_faces: int
    publictest_before: float
    publictest_after: float
    run_dir: Path


def mine_and_finetune(
    run_dir: str | Path,
    *,
    epochs: int = 3,
    hard_fraction: float = 0.25,
    lr_scale: float = 0.1,
    out: str | Path | None = None,
    progress: bool = True,
    overwrite: bool = False,
    agree_with: str | Path | None = None,
) -> MiningResult:
    """Fine-tune a run's best checkpoint on its own training mistakes; write a new run in `out`
    (a run already there is never replaced silently: RunExists unless `overwrite`).

    `agree_with` (fer2013new.csv): mine only mistakes whose FER+ majority vote is the face's FER2013 label,
    leaving out the ambiguous and mislabelled faces that most mistakes are."""
    source = Path(run_dir)
    state = load_checkpoint(source / "best.pt")
    base = TrainConfig.from_dict(state["config"])
    out_dir = Path(out) if out else source / "mined"
    if not overwrite:
        refuse_to_overwrite(out_dir)
    cfg = base.override(
        epochs=epochs,
        lr=base.lr * lr_scale,
        schedule="cosine",
        warmup_epochs=0.0,
        out=str(out_dir),
        progress=progress,
        early_stop_patience=0,
        max_minutes=0.0,
    )
    runtime = setup_runtime(cfg.device)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        trainer = Trainer(cfg, runtime, out_dir)
        trainer.model.load_state_dict(state["ema_state"] or state["model_state"])
        if trainer.ema is not None:
            trainer.ema.module.load_state_dict(trainer.model.state_dict())
        before = trainer.evaluate_selection()["val_accuracy"]
        # Mistakes on un-augmented TRAINING faces only: PublicTest stays an honest judge.
        logits = predict_logits(
            trainer.model,
            trainer.train_set.faces,
            device=trainer.device,
            amp=trainer.amp,
            channels_last=cfg.channels_last,
        )
        wrong = torch.nonzero(logits.argmax(1) != torch.as_tensor(trainer.train_set.labels)).flatten()
        if agree_with is not None:
            agreeing = torch.as_tensor(_votes_agree(cfg.data, Path(agree_with), trainer.train_set))
            wrong = wrong[agreeing[wrong]]
        trainer.hard_pool = wrong.to(trainer.device)
        trainer.hard_fraction = hard_fraction
        result = trainer.fit()
        report = MiningResult(len(wrong), len(trainer.train_set.labels), before, result.best_accuracy, out_dir)
        if runtime.is_main:
            (out_dir / "mining.json").write_text(
                json.dumps(
                    {
                        "hard_examples": report.hard_examples,
                        "training_faces": report.training_faces,
                        "hard_fraction": hard_fraction,
                        "agree_with": None if agree_with is None else str(agree_with),
                        "epochs": epochs,
                        "source": str(source / "best.pt"),
                        "publictest_before": before,
                        "publictest_after": result.best_accuracy,
                    },
                    indent=1,
                )
            )
        return report
    finally:
        teardown_runtime(runtime)


def _votes_agree(data: str, votes_csv: Path, train_set) -> np.ndarray:
    """Per training face: does its FER+ majority (in FER2013's classes; contempt and no-majority never) equal
    its FER2013 label? The run's training faces must be the data's Training split, in order."""
    training = load_faces(data, ferplus=votes_csv).split(TRAIN_SPLIT)
    if training.faces.shape != train_set.faces.shape or not np.array_equal(training.faces, train_set.faces):
        raise BadInput(
            f"{votes_csv}: mining by agreement needs the run's training faces to be all of {data}'s Training split"
        )
    majority = ferplus_majority(training.votes)
    to_fer2013 = np.array([-1 if FERPLUS_TO_FER2013[i] is None else FERPLUS_TO_FER2013[i] for i in range(8)] + [-1])
    return to_fer2013[majority] == np.asarray(train_set.labels)
