"""Matplotlib for files only: one place that picks the backend, explains a missing install, and saves."""

from __future__ import annotations

from pathlib import Path

from ferkit.errors import SetupError


def pyplot():
    """matplotlib.pyplot on the Agg backend (never opens a window)."""
    try:
        import matplotlib
    except ImportError:
        raise SetupError("figures need matplotlib: pip install 'ferkit[data]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, out: Path) -> Path:
    """Tight layout, 100 dpi PNG, figure closed; the folder is created if needed."""
    plt = pyplot()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
