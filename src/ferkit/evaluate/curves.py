"""Training curves of a run: loss and accuracy per epoch, Training vs PublicTest."""

from __future__ import annotations

import json
from pathlib import Path

from ferkit.data.figures import pyplot, save_figure
from ferkit.errors import BadInput


def plot_history(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    history_file = run_dir / "history.json"
    if not history_file.is_file():
        raise BadInput(f"{history_file}: no such file (is {run_dir} a training run directory?)")
    history = json.loads(history_file.read_text())
    if not history:
        raise BadInput(f"{history_file}: the run has no finished epoch yet")
    plt = pyplot()
    epochs = [h["epoch"] for h in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    loss_ax.plot(epochs, [h["train_loss"] for h in history], label="Training (augmented)")
    loss_ax.plot(epochs, [h["val_loss"] for h in history], label="PublicTest")
    loss_ax.set_title("loss")
    acc_ax.plot(epochs, [h["train_accuracy"] for h in history], label="Training (augmented)")
    acc_ax.plot(epochs, [h["val_accuracy"] for h in history], label="PublicTest")
    best = max(history, key=lambda h: h["val_accuracy"])
    acc_ax.scatter(
        [best["epoch"]],
        [best["val_accuracy"]],
        color="red",
        zorder=3,
        label=f"best {best['val_accuracy']:.4f} (epoch {best['epoch']})",
    )
    acc_ax.set_title("accuracy")
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    return save_figure(fig, run_dir / "curves.png")
