"""Names for the files `predict --out` writes: one per input, never two inputs onto one file."""

from __future__ import annotations

from pathlib import Path


class OutputNames:
    """Hands out `<stem><suffix>` in `folder`, falling back to `<stem>.<ext><suffix>`, then `<stem>-<n><suffix>`,
    when another input of this run already took the name (a/face.jpg and b/face.webp, or a/x.jpg and b/x.jpg).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._taken: dict[Path, str] = {}  # output -> the input it belongs to

    def name_for(self, source: str | Path, suffix: str) -> Path:
        source = str(source)
        path = Path(source)
        candidates = [f"{path.stem}{suffix}"]
        if path.suffix:
            candidates.append(f"{path.stem}.{path.suffix.lstrip('.').lower()}{suffix}")
        for name in candidates:
            if self._claim(self.folder / name, source):
                return self.folder / name
        n = 2
        while not self._claim(self.folder / f"{path.stem}-{n}{suffix}", source):
            n += 1
        return self.folder / f"{path.stem}-{n}{suffix}"

    def _claim(self, out: Path, source: str) -> bool:
        owner = self._taken.setdefault(out, source)
        return owner == source
