"""The model card that ships beside an exported model: what it is, how it was trained, how well it does."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from ferkit.evaluate.run import evaluate
from ferkit.labels import REPORT_SPLIT, SELECT_SPLIT
from ferkit.models.checkpoint import load_checkpoint

# What the splits are called, and what a face's true class is, in each label space a model can have.
LABEL_SPACES = {
    "fer2013": {
        "trained_on": "FER2013 Training split (28,709 faces)",
        "selected_on": "FER2013 PublicTest (best epoch by accuracy)",
        "reported_on": "FER2013 PrivateTest (never used for any choice)",
    },
    "ferplus": {
        "trained_on": "FER+ Train: the FER2013 Training faces with their 10 annotators' vote distributions "
        "(faces without a majority emotion left out, as the FER+ paper does)",
        "selected_on": "FER+ Valid = FER2013 PublicTest, majority vote (best epoch by accuracy)",
        "reported_on": "FER+ Test = FER2013 PrivateTest, majority vote (never used for any choice)",
    },
}


def _minutes_to_epoch(history: list[dict[str, Any]], epoch: int) -> float | None:
    """Wall minutes the run had trained when it reached `epoch` (None for a history without it)."""
    return next((round(h["elapsed_minutes"], 1) for h in history if h["epoch"] == epoch), None)


def write_model_card(
    checkpoint: str | Path, exported: str | Path, data: str | Path, *, command: str, ferplus: str | Path | None = None
) -> Path:
    """Evaluate the exported file itself on PublicTest and PrivateTest and write <exported>.card.json / .md."""
    state = load_checkpoint(checkpoint)
    exported = Path(exported)
    results: dict[str, Any] = {}
    for split in (SELECT_SPLIT, REPORT_SPLIT):
        for tta in ("none", "flip"):
            m = evaluate(exported, data, split=split, tta=tta, ferplus=ferplus).metrics
            results[f"{split}/{tta}"] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n": m["n"]}
    cfg = state["config"]
    card = {
        "model": state["model_name"],
        "file": exported.name,
        "classes": state["class_names"],
        "input": "N×1×48×48 float32 gray pixels 0-255, face crops aligned like FER2013",
        **LABEL_SPACES[state.get("labels", "fer2013")],
        "best_epoch": state["best_epoch"],
        "schedule_epochs": cfg["epochs"],
        "training_minutes_to_best": _minutes_to_epoch(state["history"], state["best_epoch"]),
        "note": "the training loop's PublicTest figure was computed under bf16 autocast; the results below are "
        "the exported fp32 model's, measured by `ferkit evaluate`",
        "recipe": {
            k: cfg[k]
            for k in (
                "model",
                "optimizer",
                "lr",
                "schedule",
                "epochs",
                "batch_size",
                "augment",
                "label_smoothing",
                "ema_decay",
                "balance",
                "teacher",
                "distill_weight",
                "init",
                "seed",
                "hold_out",  # a Training fold the model never saw (its judge is fitted on it too)
            )
            if k in cfg
        },
        "results": results,
        "command": command,
        "code_version": state.get("code_version", ""),
        "date": dt.date.today().isoformat(),
    }
    json_path = exported.with_name(exported.stem + ".card.json")
    json_path.write_text(json.dumps(card, indent=1))
    rows = "\n".join(
        f"| {key.split('/')[0]} | {key.split('/')[1]} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['n']:,} |"
        for key, r in results.items()
    )
    exported.with_name(exported.stem + ".card.md").write_text(
        f"# {card['model']} ({exported.name})\n\n"
        f"Classes: {', '.join(card['classes'])}. Input: {card['input']}.\n\n"
        f"Trained on {card['trained_on']}; epoch {card['best_epoch']} of a {card['schedule_epochs']}-epoch "
        f"schedule ({card['training_minutes_to_best']} min), chosen on {card['selected_on']}; reported on "
        f"{card['reported_on']}." + (f" Fine-tuned from `{cfg['init']}`." if cfg.get("init") else "") + "\n\n"
        "| split | TTA | accuracy | macro-F1 | faces |\n|---|---|---|---|---|\n" + rows + "\n\n"
        f"Made by: `{command}` ({card['code_version']}, {card['date']}).\n"
    )
    return json_path
