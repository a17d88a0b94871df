"""Registry[T]: named implementations of one extension point (models, detectors, export formats, layouts).

Each layer that owns an extension point keeps one; the CLI, the server, the benchmarks and the tests list
and choose from it, so a new implementation is one module plus one registration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from ferkit.errors import UnknownName

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    description: str  # one line, shown in help texts and listings
    value: T


class Registry(Generic[T]):
    """Names -> values in registration order; `get` of an unknown name lists the valid ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "model", "face detector", ...: used in messages
        self._entries: dict[str, Entry[T]] = {}

    def add(self, name: str, description: str, value: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = Entry(name, description, value)
        return value

    def register(self, name: str, description: str) -> Callable[[T], T]:
        """Decorator form: `@REGISTRY.register("name", "what it is")` above a class or function."""

        def add(value: T) -> T:
            return self.add(name, description, value)

        return add

    def get(self, name: str) -> T:
        return self.entry(name).value

    def entry(self, name: str) -> Entry[T]:
        if name not in self._entries:
            raise UnknownName(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self._entries)}")
        return self._entries[name]

    def names(self) -> list[str]:
        return list(self._entries)

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(list(self._entries.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def help(self) -> str:
        """'a, b or c' for option help texts."""
        names = self.names()
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
