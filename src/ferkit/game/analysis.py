"""Bounded analyses on the server: how many run at once, how long one may take, stopped when its client leaves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from fastapi.concurrency import run_in_threadpool

from ferkit.game.frames import FrameResult, analyse
from ferkit.game.settings import ServerSettings
from ferkit.infer import Recognizer
from ferkit.vision.stop import StopSignal

Payload = bytes | Callable[[], Awaitable[bytes]]
T = TypeVar("T")


class Busy(Exception):
    """Every analysis slot stayed taken for the whole wait (REST: 503; game: a 'busy' message)."""


class Analyser:
    """Runs `frames.analyse` in worker threads, at most `max_concurrent_analyses` at a time.

    A slot is held from before the upload is read until the worker thread has really finished (not
    merely until its caller gave up), so the bound holds even for abandoned requests. Each analysis
    gets a deadline, and is cancelled when `client_gone` says its client has left.
    """

    def __init__(self, recognizer: Recognizer, settings: ServerSettings) -> None:
        self.recognizer, self.settings = recognizer, settings
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def slots(self) -> asyncio.Semaphore:
        """The semaphore of the running event loop (a server has one; each test client starts its own)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            self._slots, self._loop = asyncio.Semaphore(self.settings.max_concurrent_analyses), loop
        return self._slots

    async def _acquire(self, wait_seconds: float) -> asyncio.Semaphore:
        # FIFO and woken at once when a slot frees (polling a lock left cores idle between analyses)
        slots = self.slots
        try:
            await asyncio.wait_for(slots.acquire(), wait_seconds)
        except asyncio.TimeoutError:
            raise Busy(f"the server is busy ({self.settings.max_concurrent_analyses} analyses running)") from None
        return slots

    async def run(
        self,
        payload: Payload,
        max_faces: int,
        source: str,
        *,
        wait_seconds: float,
        client_gone: Callable[[], Awaitable[bool]] | None = None,
        stop: StopSignal | None = None,
        min_size: float | None = None,
    ) -> FrameResult:
        """The analysis of the image bytes (or of what `payload()` reads once a slot is free)."""
        slots = await self._acquire(wait_seconds)
        try:
            raw = payload if isinstance(payload, bytes) else await payload()
        except BaseException:
            slots.release()
            raise
        s = self.settings
        stop = stop or StopSignal(s.analysis_seconds)
        job = partial(
            analyse,
            self.recognizer,
            raw,
            max_faces,
            source,
            max_pixels=s.max_analysis_pixels,
            stop=stop,
            min_size=min_size,
        )
        return await self._in_slot(slots, stop, client_gone, job)

    async def call(self, func: Callable[..., T], *args, wait_seconds: float, stop: StopSignal, **kwargs) -> T:
        """Any other bounded work on the Recognizer (a claim's re-scoring): a slot, a thread, a deadline."""
        slots = await self._acquire(wait_seconds)
        return await self._in_slot(slots, stop, None, partial(func, *args, **kwargs))

    async def _in_slot(self, slots: asyncio.Semaphore, stop: StopSignal, client_gone, job: Callable[[], T]) -> T:
        work = asyncio.ensure_future(run_in_threadpool(job))
        work.add_done_callback(lambda _: slots.release())  # when the thread ends, not when we stop waiting
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=0.1)
                if done:
                    return work.result()
                if client_gone is not None and await client_gone():
                    stop.cancel("the client left")
        except BaseException:  # our caller was cancelled: the thread stops at its next checkpoint
            stop.cancel("the request was abandoned")
            raise
