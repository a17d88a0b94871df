"""Write one metadata entry into a copy of an ONNX model, its weights untouched."""

from __future__ import annotations

from pathlib import Path


def with_metadata(model: str | Path, out: str | Path, key: str, value: str) -> Path:
    """`model` saved as `out` (may be the same file) with `key` set to `value` in its metadata."""
    import onnx

    proto = onnx.load(str(model))
    for prop in list(proto.metadata_props):
        if prop.key == key:
            proto.metadata_props.remove(prop)
    entry = proto.metadata_props.add()
    entry.key, entry.value = key, value
    out = Path(out)
    onnx.save(proto, str(out))
    return out
