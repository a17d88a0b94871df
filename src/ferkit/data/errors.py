"""The data layer's error: DataError lives in ferkit.errors (so vision, infer and game need not load data)."""

from ferkit.errors import DataError

__all__ = ["DataError"]
