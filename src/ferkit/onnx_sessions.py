"""onnxruntime sessions made one way: on the CPU, quiet, with the process's intra-op thread count."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort

_intra_op_threads = 0  # 0: onnxruntime's default, one thread per core


def set_intra_op_threads(threads: int) -> None:
    """Threads per onnxruntime call for sessions made from now on (0: one per core).

    A server runs many analyses at once, each in its own worker thread: there one thread per call is
    faster, because every call's own pool of spinning threads would fight the others for the cores.
    """
    global _intra_op_threads
    if threads < 0:
        raise ValueError(f"threads must be 0 (one per core) or more, not {threads}")
    _intra_op_threads = threads


def owns_the_cores() -> bool:
    """Whether one call may use every core: the default, but not where many analyses run side by side
    (a server, a pool of worker processes), which set_intra_op_threads to 1."""
    return _intra_op_threads == 0 and (os.cpu_count() or 1) > 1


def cpu_session(path: str | Path, *, memory_arena: bool = True, threads: int | None = None) -> ort.InferenceSession:
    """`threads`: this session's intra-op threads, overriding the process's setting (None: that setting)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = memory_arena
    threads = _intra_op_threads if threads is None else threads
    if threads:
        options.intra_op_num_threads = threads
    # No spinning: a Recognizer runs four sessions in turn (P-, R-, O-Net, classifier), and each one's
    # pool kept spinning after its call, fighting the next one for the cores. Without it a 640×480 stream
    # went from 74.6 to 123.5 frames/s and a photo from 17.6 to 24.5 (benchmarks/versus_fer.py, 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
