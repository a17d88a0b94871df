"""The root of every error a person should read; the CLI and the server turn them into one line.

Each error's message names the file, value or setting and what was expected, so the edge only prints it
(CLI: `error: ...`, exit 2) or returns it (HTTP 4xx). Subclasses also derive from the built-in type that
fits (ValueError, KeyError, RuntimeError), so callers that catch those keep working.
"""

from __future__ import annotations

from pathlib import Path


class FerkitError(Exception):
    """An error whose message is written for the person who ran ferkit."""

    exit_code = 2


class BadInput(FerkitError, ValueError):
    """A file, image, value or setting the user gave cannot be used as it is."""


class DataError(BadInput):
    """A dataset or image file that cannot be read as FER data; the message names the file and the place."""

    def __init__(self, path: str | Path, problem: str, *, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class ModelError(FerkitError, ValueError):
    """A checkpoint or model file that cannot serve (unreadable, hostile, or not a ferkit model)."""


class UnknownName(FerkitError, KeyError):
    """A name (model, detector, format, recipe, split, setting ...) that is not one of the valid ones."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class DatasetUnsuitable(FerkitError, ValueError):
    """The dataset cannot serve this purpose (no labels, no PublicTest split, ...)."""


class TrainingDiverged(FerkitError, RuntimeError):
    """The loss became NaN or infinite."""


class SetupError(FerkitError, RuntimeError):
    """Something this machine lacks: an optional package, credentials, a browser."""


def message_of(error: BaseException) -> str:
    """The one line to show for an error (a plain KeyError's message without its quotes)."""
    if isinstance(error, KeyError) and not isinstance(error, UnknownName) and error.args:
        return str(error.args[0])
    return str(error)
