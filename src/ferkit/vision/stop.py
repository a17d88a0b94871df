"""Stopping an analysis early: its time budget ran out, or the client that asked for it has gone."""

from __future__ import annotations

import threading
import time


class AnalysisStopped(Exception):
    """Raised inside an analysis at its next checkpoint once its StopSignal fired."""

    def __init__(self, reason: str, *, timed_out: bool) -> None:
        super().__init__(reason)
        self.reason, self.timed_out = reason, timed_out


class StopSignal:
    """A deadline plus a cancel flag, checked between the bounded steps of an analysis (thread-safe)."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self._cancelled = threading.Event()
        self._reason = ""

    def cancel(self, reason: str = "the client left") -> None:
        self._reason = reason
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check(self) -> None:
        if self._cancelled.is_set():
            raise AnalysisStopped(self._reason, timed_out=False)
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise AnalysisStopped(f"the analysis took over {self.seconds:g} s and was stopped", timed_out=True)


def check(stop: StopSignal | None) -> None:
    """A checkpoint: nothing when there is no signal."""
    if stop is not None:
        stop.check()
