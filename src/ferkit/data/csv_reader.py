"""Read the csv layouts of FER2013: fer2013.csv, icml_face_data.csv, train.csv and test.csv."""

from __future__ import annotations

import mmap
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ferkit.data import _csv_kernels as kernels
from ferkit.data.errors import DataError
from ferkit.data.faceset import FACE_SIZE, UNKNOWN_LABEL, FaceSet
from ferkit.labels import EMOTIONS, SPLITS

OFFICIAL_SPLITS = SPLITS[:3]
NUM_PIXELS = FACE_SIZE * FACE_SIZE
_EXPECTED_HEADERS = (
    "'emotion,pixels,Usage' (fer2013.csv), 'emotion, Usage, pixels' (icml_face_data.csv), "
    "'emotion,pixels' (train.csv) or 'pixels' (test.csv)"
)


@dataclass(frozen=True)
class CsvLayout:
    """Which column holds what; -1 when the file has no such column."""

    ncols: int
    pixels: int
    emotion: int
    usage: int


def parse_header(header: bytes, source: str) -> CsvLayout:
    """Map a header line to a layout, accepting the spaces and quotes Kaggle's files have."""
    try:
        text = header.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        raise DataError(source, f"the header is not text; expected {_EXPECTED_HEADERS}", line=1) from None
    names = [c.strip().strip('"').strip().lower() for c in text.split(",")]
    known = {"emotion", "pixels", "usage"}
    if "pixels" not in names or not set(names) <= known or len(set(names)) != len(names):
        hint = ""
        if "image name" in names:
            hint = " (this looks like the FER+ votes file: pass it as the FER+ votes, beside fer2013.csv)"
        raise DataError(source, f"unexpected header {text[:80]!r}; expected {_EXPECTED_HEADERS}{hint}", line=1)
    return CsvLayout(
        ncols=len(names),
        pixels=names.index("pixels"),
        emotion=names.index("emotion") if "emotion" in names else -1,
        usage=names.index("usage") if "usage" in names else -1,
    )


def describe_row_problem(line: bytes, layout: CsvLayout) -> str:
    """What is wrong with one data row, in words (used only once a row is known to be bad)."""
    text = line.decode("utf-8", errors="replace").rstrip("\r\n")
    fields = text.split(",")
    if len(fields) != layout.ncols:
        return f"expected {layout.ncols} comma-separated fields, found {len(fields)}"
    values = fields[layout.pixels].strip().strip('"').split()
    for i, value in enumerate(values):
        # the fast parser reads at most 3 digits per pixel, so '0058' is refused, and named here
        if not value.isdigit() or len(value) > 3 or int(value) > 255:
            return f"pixel {i + 1} is {value[:20]!r}; expected an integer from 0 to 255, at most 3 digits"
    if len(values) != NUM_PIXELS:
        return f"expected {NUM_PIXELS} pixel values (48×48), found {len(values)}"
    if layout.emotion >= 0:
        label = fields[layout.emotion].strip().strip('"')
        if not label.isdigit() or int(label) >= len(EMOTIONS):
            return f"emotion is {label[:20]!r}; expected an integer from 0 to {len(EMOTIONS) - 1}"
    if layout.usage >= 0:
        usage = fields[layout.usage].strip().strip('"')
        if usage not in OFFICIAL_SPLITS:
            return f"Usage is {usage[:20]!r}; expected one of {', '.join(OFFICIAL_SPLITS)}"
    return "the row could not be parsed"


def read_csv_file(path: Path, *, default_split: str) -> FaceSet:
    """Parse a FER2013 csv file on disk (memory-mapped: no 300 MB copy)."""
    if path.stat().st_size == 0:
        raise DataError(path, "the file is empty; expected a csv with a header line and rows of faces")
    with open(path, "rb") as f:
        # Not closed explicitly: numpy views (and numba) may still export the buffer; the mapping
        # is released when the last view goes away.
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return parse_csv_buffer(np.frombuffer(mm, dtype=np.uint8), str(path), default_split=default_split)


def parse_csv_buffer(buf: np.ndarray, source: str, *, default_split: str) -> FaceSet:
    """Parse csv bytes (a uint8 array) into a FaceSet; rows without Usage get `default_split`."""
    if len(buf) == 0 or not bytes(buf[:4096]).strip():
        raise DataError(source, "the file is empty; expected a csv with a header line and rows of faces")
    header_end = _find_newline(buf)
    layout = parse_header(bytes(buf[:header_end]), source)
    parse = _parse_numba if kernels.HAVE_NUMBA else _parse_numpy
    pixels, labels, usage = parse(buf, header_end + 1, layout, source)
    if len(pixels) == 0:
        raise DataError(source, "the file has a header but no rows of faces")
    if layout.usage < 0:
        usage = np.full(len(pixels), SPLITS.index(default_split), dtype=np.uint8)
    return FaceSet(
        faces=pixels.reshape(-1, FACE_SIZE, FACE_SIZE),
        labels=labels,
        split_codes=usage,
        source=source,
    )


def _find_newline(buf: np.ndarray) -> int:
    hits = np.flatnonzero(buf[: 1 << 16] == 10)
    return int(hits[0]) if len(hits) else len(buf)


def _line_at(buf: np.ndarray, start: int) -> bytes:
    end = start
    while end < len(buf) and buf[end] != 10:
        end += 1
    return bytes(buf[start:end])


def _parse_numba(buf: np.ndarray, start: int, layout: CsvLayout, source: str):
    max_rows = kernels.count_newlines(buf) + 1
    offsets = np.zeros((max_rows, layout.ncols, 2), dtype=np.int64)
    lines = np.zeros(max_rows, dtype=np.int64)
    nrows = kernels.split_rows(buf, start, layout.ncols, offsets, lines)
    if nrows < 0:
        bad = -nrows - 1
        line = _line_at(buf, int(offsets[bad, 0, 0]))
        raise DataError(source, describe_row_problem(line, layout), line=int(lines[bad]))
    names = np.zeros((len(OFFICIAL_SPLITS), 16), dtype=np.uint8)
    name_lens = np.zeros(len(OFFICIAL_SPLITS), dtype=np.int64)
    for i, name in enumerate(OFFICIAL_SPLITS):
        names[i, : len(name)] = np.frombuffer(name.encode(), dtype=np.uint8)
        name_lens[i] = len(name)
    pixels = np.empty((nrows, NUM_PIXELS), dtype=np.uint8)
    labels = np.full(nrows, UNKNOWN_LABEL, dtype=np.int8)
    usage = np.zeros(nrows, dtype=np.uint8)
    status = np.zeros(nrows, dtype=np.int8)
    kernels.parse_rows(
        buf,
        offsets,
        nrows,
        layout.pixels,
        layout.emotion,
        layout.usage,
        names,
        name_lens,
        pixels,
        labels,
        usage,
        status,
    )
    bad_rows = np.flatnonzero(status)
    if len(bad_rows):
        bad = int(bad_rows[0])
        line = _line_at(buf, int(offsets[bad, 0, 0]))
        raise DataError(source, describe_row_problem(line, layout), line=int(lines[bad]))
    return pixels, labels, usage


def _parse_numpy(buf: np.ndarray, start: int, layout: CsvLayout, source: str):
    """The path without numba: per-row numpy parsing (~5x slower, same checks and messages)."""
    body = bytes(buf[start:])
    pixels, labels, usage = [], [], []
    for lineno, raw in enumerate(body.split(b"\n"), start=2):
        line = raw.rstrip(b"\r")
        if not line.strip():
            continue
        fields = line.split(b",")
        if len(fields) != layout.ncols:
            raise DataError(source, describe_row_problem(line, layout), line=lineno)
        text = fields[layout.pixels].strip().strip(b'"')
        ok = not text.translate(None, b"0123456789 \t")  # only digits and blanks
        ok = ok and max(map(len, text.split()), default=0) <= 3  # as the numba kernel: at most 3 digits
        if ok:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                values = np.fromstring(text, dtype=np.int64, sep=" ")
            ok = len(values) == NUM_PIXELS and values.max() <= 255
        label = UNKNOWN_LABEL
        if ok and layout.emotion >= 0:
            label_text = fields[layout.emotion].strip().strip(b'"')
            ok = label_text.isdigit() and int(label_text) < len(EMOTIONS)
            label = int(label_text) if ok else label
        split = 0
        if ok and layout.usage >= 0:
            usage_text = fields[layout.usage].strip().strip(b'"').decode("utf-8", errors="replace")
            ok = usage_text in OFFICIAL_SPLITS
            split = OFFICIAL_SPLITS.index(usage_text) if ok else 0
        if not ok:
            raise DataError(source, describe_row_problem(line, layout), line=lineno)
        pixels.append(values.astype(np.uint8))
        labels.append(label)
        usage.append(split)
    if not pixels:
        return np.empty((0, NUM_PIXELS), np.uint8), np.empty(0, np.int8), np.empty(0, np.uint8)
    return np.stack(pixels), np.array(labels, dtype=np.int8), np.array(usage, dtype=np.uint8)
