"""What every command shares: the Typer apps, the consoles, and the one error edge."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ferkit.errors import FerkitError, message_of

app = typer.Typer(
    help="Facial expression recognition: data, training, evaluation, prediction, Best Actor.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Read, check and download FER2013.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console(width=max(120, shutil.get_terminal_size().columns))  # tables never truncate names
err_console = Console(stderr=True, soft_wrap=True)  # error lines stay whole for logs and grep

DataPath = Annotated[
    Path,
    typer.Argument(
        help="FER2013 in any layout `ferkit data layouts` lists (fer2013.csv, fer2013.tar.gz, image folders, ...)"
    ),
]
FerplusOpt = Annotated[Optional[Path], typer.Option("--ferplus", help="fer2013new.csv to join (FER+ votes)")]  # noqa: UP045


DetectorOpt = Annotated[
    str, typer.Option(help="face detector: mtcnn (default), mtcnn-fast or haar; `ferkit detectors` lists them")
]
ModelOpt = Annotated[
    str,
    typer.Option(help="an .onnx, or a shipped model: default (FER2013), ferplus (FER+), default-int8, ferplus-int8"),
]
RuleOpt = Annotated[
    str,
    typer.Option(
        help="balanced: the model's stored decision rule, every expression equally likely (fair to people acting); "
        "as-trained: the plain softmax, with the training data's class mix"
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` on stderr (the message verbatim: `[train]` is not Rich markup) and exit."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


# An optional package a command needs -> the extra that installs it (the CLI names the extra, not the package).
EXTRA_OF = {"torch": "train", "sklearn": "train", "onnx": "train", "tensorboard": "train", "matplotlib": "data",
            "numba": "data", "kaggle": "data", "coremltools": "export", "litert_torch": "export",
            "ai_edge_litert": "export"}  # fmt: skip


def missing_extra(error: ImportError) -> str | None:
    """`pip install 'ferkit[EXTRA]'` advice for a missing optional package, or None for any other ImportError."""
    top = (error.name or "").split(".")[0]
    extra = EXTRA_OF.get(top)
    return (
        f"this needs {top}, which comes with ferkit's '{extra}' extra: pip install 'ferkit[{extra}]'" if extra else None
    )


def command(name: str, group: typer.Typer = app) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command behind the one error edge: a FerkitError, or a missing optional package, becomes
    one `error: ...` line and exit code 2 (never a traceback)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except FerkitError as e:
                raise _fail(message_of(e), e.exit_code) from None
            except ImportError as e:
                advice = missing_extra(e)
                if advice is None:
                    raise
                raise _fail(advice) from None

        return group.command(name)(run)

    return register


def _load(path: Path, ferplus: Path | None):
    from ferkit.data import load_faces

    return load_faces(path, ferplus=ferplus)
