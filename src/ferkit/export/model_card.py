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


def _results(exported: Path, data: str | Path, ferplus: str | Path | None) -> dict[str, Any]:
    """The exported file's own accuracy and macro-F1 on PublicTest and PrivateTest, without and with flip TTA."""
    results: dict[str, Any] = {}
    for split in (SELECT_SPLIT, REPORT_SPLIT):
        for tta in ("none", "flip"):
            m = evaluate(exported, data, split=split, tta=tta, ferplus=ferplus).metrics
            results[f"{split}/{tta}"] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n": m["n"]}
    return results


def _results_table(results: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {key.split('/')[0]} | {key.split('/')[1]} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['n']:,} |"
        for key, r in results.items()
    )
    return "| split | TTA | accuracy | macro-F1 | faces |\n|---|---|---|---|---|\n" + rows + "\n"


def _write_card(exported: Path, card: dict[str, Any], heading: str) -> Path:
    """<exported>.card.json, and <exported>.card.md (the heading, the results table, the command); the JSON's path."""
    json_path = exported.with_name(exported.stem + ".card.json")
    json_path.write_text(json.dumps(card, indent=1))
    version = f"{card['code_version']}, " if card.get("code_version") else ""
    exported.with_name(exported.stem + ".card.md").write_text(
        f"{heading}\n\n{_results_table(card['results'])}\nMade by: `{card['command']}` ({version}{card['date']}).\n"
    )
    return json_path


def write_int8_card(
    fp32_model: str | Path, exported: str | Path, data: str | Path, *, command: str, ferplus: str | Path | None = None
) -> Path:
    """The card of an int8 model quantized from an fp32 ONNX model: the fp32 card's provenance (when one lies
    beside the fp32 file), this file's own results, and what its rule and judge curves were fitted on."""
    import hashlib

    from ferkit.weights import resolve_model

    fp32_path, exported = resolve_model(fp32_model), Path(exported)
    fp32_card_path = fp32_path.with_name(fp32_path.stem + ".card.json")
    fp32_card = json.loads(fp32_card_path.read_text()) if fp32_card_path.is_file() else {}
    kept = ("model", "classes", "input", "trained_on", "selected_on", "reported_on", "recipe", "train_command")
    card = {
        **{key: fp32_card[key] for key in kept if key in fp32_card},
        "file": exported.name,
        "quantized_from": {
            "file": fp32_path.name,
            "sha256": hashlib.sha256(fp32_path.read_bytes()).hexdigest(),
            "results": fp32_card.get("results", {}),
        },
        "quantization": "onnxruntime static int8 (QDQ), per-channel int8 weights, uint8 activations, "
        "calibrated on 512 Training faces",
        "note": "the decision rule and judge curves in the metadata are the fp32 model's, fitted on its outputs",
        "results": _results(exported, data, ferplus),
        "command": command,
        "date": dt.date.today().isoformat(),
    }
    heading = f"# {card.get('model', 'model')} int8 ({exported.name})\n\n"
    return _write_card(
        exported, card, heading + f"{fp32_path.name} quantized to int8 ({card['quantization']}); {card['note']}."
    )


def write_model_card(
    checkpoint: str | Path, exported: str | Path, data: str | Path, *, command: str, ferplus: str | Path | None = None
) -> Path:
    """Evaluate the exported file itself on PublicTest and PrivateTest and write <exported>.card.json / .md."""
    state = load_checkpoint(checkpoint)
    exported = Path(exported)
    results = _results(exported, data, ferplus)
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
    heading = (
        f"# {card['model']} ({exported.name})\n\n"
        f"Classes: {', '.join(card['classes'])}. Input: {card['input']}.\n\n"
        f"Trained on {card['trained_on']}; epoch {card['best_epoch']} of a {card['schedule_epochs']}-epoch "
        f"schedule ({card['training_minutes_to_best']} min), chosen on {card['selected_on']}; reported on "
        f"{card['reported_on']}."
    )
    return _write_card(exported, card, heading + (f" Fine-tuned from `{cfg['init']}`." if cfg.get("init") else ""))
