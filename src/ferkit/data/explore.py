"""Exploration figures for `ferkit explore`: thumbnail grid, one face per class, class counts per split."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from ferkit.data.faceset import FaceSet
from ferkit.data.figures import pyplot, save_figure
from ferkit.labels import EMOTIONS


def thumbnail_grid(faces: FaceSet, out: Path, *, rows: int = 8, cols: int = 12, seed: int = 0) -> Path:
    """A grid of random faces, each titled with its class."""
    plt = pyplot()
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(faces), size=min(rows * cols, len(faces)), replace=False)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.25))
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, pick):
        ax.imshow(faces.faces[i], cmap="gray", vmin=0, vmax=255)
        label = int(faces.labels[i])
        ax.set_title(EMOTIONS[label] if label >= 0 else "?", fontsize=8)
    fig.suptitle(f"{len(pick)} random faces of {len(faces):,}")
    return save_figure(fig, out)


def one_per_class(faces: FaceSet, out: Path, *, seed: int = 0) -> Path:
    """One random face of each class, named."""
    plt = pyplot()
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(1, len(EMOTIONS), figsize=(len(EMOTIONS) * 1.8, 2.3))
    for k, ax in enumerate(axes):
        ax.axis("off")
        members = np.flatnonzero(faces.labels == k)
        ax.set_title(f"{k} {EMOTIONS[k]}", fontsize=10)
        if len(members):
            ax.imshow(faces.faces[rng.choice(members)], cmap="gray", vmin=0, vmax=255)
    return save_figure(fig, out)


def class_counts_chart(faces: FaceSet, out: Path) -> Path:
    """Bar chart of faces per class, one panel per labelled split, numbers on the bars."""
    plt = pyplot()
    splits = [s for s in faces.split_names if (faces.split(s).labels >= 0).any()]
    fig, axes = plt.subplots(1, max(1, len(splits)), figsize=(5.2 * max(1, len(splits)), 3.6), squeeze=False)
    for ax, split in zip(axes[0], splits):
        counts = faces.split(split).class_counts()
        bars = ax.bar(list(counts), list(counts.values()), color="#4C72B0")
        ax.bar_label(bars, labels=[f"{v:,}" for v in counts.values()], fontsize=8)
        ax.set_title(f"{split} ({sum(counts.values()):,} faces)")
        ax.tick_params(axis="x", rotation=45)
        ax.margins(y=0.12)
    return save_figure(fig, out)


def write_exploration(
    faces: FaceSet, out_dir: Path, *, seed: int = 0, extra: list[tuple[str, Path]] | None = None
) -> Path:
    """All figures (plus `extra` ones made by other layers) and an index.html that shows them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = [
        ("Random faces", thumbnail_grid(faces, out_dir / "thumbnails.png", seed=seed)),
        ("One face per class", one_per_class(faces, out_dir / "one_per_class.png", seed=seed)),
        ("Class counts per split", class_counts_chart(faces, out_dir / "class_counts.png")),
        *(extra or []),
    ]
    body = "\n".join(
        f"<h2>{html.escape(title)}</h2>\n<img src='{path.name}' alt='{html.escape(title)}'>" for title, path in figures
    )
    page = out_dir / "index.html"
    page.write_text(
        "<!doctype html><meta charset='utf-8'><title>ferkit explore</title>"
        "<style>body{font-family:sans-serif;max-width:1400px;margin:auto}img{max-width:100%}</style>"
        f"<h1>{html.escape(faces.source)}</h1><p>{len(faces):,} faces</p>\n{body}\n"
    )
    return page
