"""Print FER2013 load times: the notebooks' csv-module parse, ferkit's cold parse, and the cached load.

Usage: python benchmarks/parse_speed.py [PATH_TO_fer2013.csv or .tar.gz]
(default ../shared/data/fer2013.tar.gz, whose csv is extracted to a temp folder first).
"""

from __future__ import annotations

import csv
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013.tar.gz"


def naive_parse(path: Path) -> np.ndarray:
    """How the notebooks read it: csv module, split, int() per pixel."""
    faces = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            faces.append([int(p) for p in row["pixels"].split()])
    return np.array(faces, dtype=np.uint8).reshape(-1, 48, 48)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    work = Path(tempfile.mkdtemp(prefix="ferkit-bench-"))
    os.environ["FERKIT_CACHE_DIR"] = str(work / "cache")
    csv_path = source
    if source.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(source) as tf:
            member = next(m for m in tf.getmembers() if m.name.endswith(".csv"))
            tf.extract(member, work, filter="data")
            csv_path = work / member.name
    from ferkit.data import _csv_kernels, load_faces

    size_mb = csv_path.stat().st_size / 1e6
    print(f"file: {csv_path} ({size_mb:.0f} MB); numba kernels: {_csv_kernels.HAVE_NUMBA}; cores: {os.cpu_count()}")

    # Compile (or load from numba's cache) on a tiny file so the cold figure is the parse itself.
    tiny = work / "tiny.csv"
    tiny.write_text("emotion,pixels,Usage\n0," + " ".join(["1"] * 2304) + ",Training\n")
    jit, _ = timed(load_faces, tiny, cache=False)
    print(f"kernel compile / cache load (once per install): {jit:6.2f} s")

    t_naive, naive = timed(naive_parse, csv_path)
    print(f"naive csv module + int():                      {t_naive:6.2f} s")
    t_parse, faces = timed(load_faces, csv_path, cache=False)
    print(f"ferkit parse only (no cache):                  {t_parse:6.2f} s")
    t_cold, cold = timed(load_faces, csv_path)
    print(f"ferkit cold load (hash + parse + write cache): {t_cold:6.2f} s")
    t_warm, warm = timed(load_faces, csv_path)
    print(f"ferkit cached load:                            {t_warm:6.3f} s")
    t_touch, _ = timed(lambda: int(warm.faces.sum(dtype=np.uint64)))
    print(f"  + reading every cached pixel once (mmap):    {t_touch:6.3f} s")
    _csv_kernels.HAVE_NUMBA = False
    t_numpy, _ = timed(load_faces, csv_path, cache=False)
    print(f"ferkit numpy path (no numba installed):        {t_numpy:6.2f} s")
    assert (naive == faces.faces).all() and (cold.faces == warm.faces).all()
    print(
        f"{len(faces):,} faces; cold parse {t_naive / t_cold:.0f}x faster than naive; "
        f"cached load {t_naive / t_warm:.0f}x"
    )


if __name__ == "__main__":
    main()
