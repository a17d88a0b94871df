"""A Rich progress bar per epoch (loss, accuracy, faces/s, time left) and one summary line per epoch.

Where the output is not a terminal (CI, `| tee`, a log file) a bar would show nothing for minutes: a
plain line is printed every tenth of an epoch instead.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class EpochProgress:
    """The bar shows only when enabled; the per-epoch lines print on the main process unless quiet."""

    def __init__(self, *, enabled: bool, steps: int, quiet: bool = False) -> None:
        self.active = enabled
        self.quiet = quiet
        self.steps = steps
        self.console = Console(stderr=True, width=160)  # one line per epoch, even in a log file
        self._progress: Progress | None = None
        self._task = None
        self._plain = enabled and not self.console.is_terminal and not quiet
        self._tenths_shown = 0
        self._epoch_label = ""

    def __enter__(self) -> EpochProgress:
        if self.active and not self._plain:
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"), TimeRemainingColumn(), console=self.console, transient=True,
            )  # fmt: skip
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def start_epoch(self, epoch: int, epochs: int) -> None:
        self._epoch_label = f"epoch {epoch}/{epochs}"
        self._tenths_shown = 0
        if self._progress is not None:
            if self._task is not None:
                self._progress.remove_task(self._task)
            self._task = self._progress.add_task(f"epoch {epoch}/{epochs}", total=self.steps, stats="")

    def update(self, step: int, **stats: float) -> None:
        text = f"loss {stats['loss']:.3f} acc {stats['accuracy']:.3f} {stats['faces_per_s']:.0f} faces/s"
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=step, stats=text)
        elif self._plain and step * 10 // self.steps > self._tenths_shown:
            self._tenths_shown = step * 10 // self.steps
            self.console.print(f"{self._epoch_label}  batch {step}/{self.steps}  {text}", highlight=False)

    def finish_epoch(self, m: dict[str, Any], improved: bool) -> None:
        if not self.quiet:
            star = " *" if improved else ""
            self.console.print(
                f"epoch {m['epoch']:3d}  train loss {m['train_loss']:.3f} acc {m['train_accuracy']:.4f}  "
                f"PublicTest loss {m['val_loss']:.3f} acc {m['val_accuracy']:.4f}{star}  lr {m['lr']:.2e}  "
                f"{m['faces_per_second']:.0f} faces/s  {m['elapsed_minutes']:.1f} min",
                highlight=False,
            )

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, highlight=False, markup=False, soft_wrap=True)  # one line, verbatim
