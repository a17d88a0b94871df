"""Compact packs of chosen splits (xz-compressed), e.g. Training + PublicTest to carry to a GPU machine.

All three FER2013 splits do not fit a 64 MiB carry limit; Training + PublicTest do (49.6 MiB), and
leaving PrivateTest behind also makes it impossible to tune on it over there.
"""

from __future__ import annotations

import io
import lzma
from pathlib import Path

import numpy as np

from ferkit.data.errors import DataError
from ferkit.data.faceset import FaceSet
from ferkit.errors import BadInput
from ferkit.face_size import FACE_SIZE
from ferkit.files import atomic_write
from ferkit.labels import SPLITS, split_name

PACK_SUFFIX = ".ferpack.xz"
_FORMAT = "ferkit-pack-v1"


# Each pixel stored as its difference from the pixel one row up (FACE_SIZE bytes back), then LZMA2: 9% smaller
# than LZMA2 alone on FER2013 faces (Training + PublicTest 49.6 instead of 54.2 MiB), which keeps the
# working tree plus the pack under a lent GPU's 64 MiB. Readers need nothing new: xz records its filters.
PACK_FILTERS = [{"id": lzma.FILTER_DELTA, "dist": FACE_SIZE}, {"id": lzma.FILTER_LZMA2, "preset": 6}]


def is_pack(path: Path) -> bool:
    return path.name.endswith(PACK_SUFFIX)


def write_pack(faces: FaceSet, out: Path, splits: list[str]) -> Path:
    """Write the chosen splits of `faces` to `out` (a name ending in .ferpack.xz)."""
    if not out.name.endswith(PACK_SUFFIX):
        raise BadInput(f"{out}: a pack's name must end in {PACK_SUFFIX}")
    splits = [split_name(s) for s in splits]  # any case; an unknown name lists the valid ones
    part = faces.subset(np.isin(faces.split_codes, [SPLITS.index(s) for s in splits]))
    arrays = {
        "format": np.array(_FORMAT),
        "faces": part.faces,
        "labels": part.labels,
        "split_codes": part.split_codes,
        "row_index": part.row_index,
        "source": np.array(faces.source),
    }
    if part.votes is not None:
        arrays["votes"] = part.votes
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    packed = lzma.compress(buffer.getvalue(), format=lzma.FORMAT_XZ, filters=PACK_FILTERS)
    atomic_write(out, lambda f: f.write(packed))
    return out


def read_pack(path: Path) -> FaceSet:
    try:
        raw = lzma.decompress(path.read_bytes())
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            if str(z["format"]) != _FORMAT:
                raise DataError(path, f"unsupported pack format {z['format']!s}; expected {_FORMAT}")
            return FaceSet(
                faces=z["faces"],
                labels=z["labels"],
                split_codes=z["split_codes"],
                votes=z["votes"] if "votes" in z.files else None,
                source=f"{path} (pack of {z['source']!s})",
                row_index=z["row_index"],
            )
    except (lzma.LZMAError, EOFError, ValueError, KeyError, OSError) as e:
        raise DataError(path, f"not a readable ferkit pack (truncated or corrupt?): {e}") from None
