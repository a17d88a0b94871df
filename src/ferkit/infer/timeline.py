"""A video's expressions over time, per tracked face, written as it streams: memory does not grow with length.

`timeline.csv` gets one row per face per analysed frame (frame, seconds, track, box, every probability,
the smoothed label) and is flushed as it goes, so a stopped run resumes after its last row. At the end:
`summary.json` (per face: frames, first/last second, share of time per expression), `timeline.png`
(each face's probabilities over time; needs matplotlib) and `index.html`, a self-contained page with
the plot and a few annotated frames taken at even intervals.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ferkit.infer.video import Track

CSV_NAME, SUMMARY_NAME, PLOT_NAME, PAGE_NAME = "timeline.csv", "summary.json", "timeline.png", "index.html"
MAX_THUMBNAILS = 12


def _complete_rows(path: Path, header: list[str]) -> list[list[str]]:
    """The rows of a previous run, without its last frame (it may have been cut short by the stop)."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f)][1:]
    rows = [r for r in rows if len(r) == len(header)]
    last = max((int(r[0]) for r in rows), default=-1)
    return [r for r in rows if int(r[0]) != last]


@dataclass
class FaceStats:
    frames: int = 0
    first_seconds: float = 0.0
    last_seconds: float = 0.0
    labels: Counter = field(default_factory=Counter)


class TimelineWriter:
    """Streams rows to timeline.csv; keeps only per-face counters and at most MAX_THUMBNAILS small frames."""

    def __init__(self, folder: Path, class_names: tuple[str, ...], *, duration_s: float | None, resume: bool) -> None:
        self.folder, self.class_names = folder, class_names
        folder.mkdir(parents=True, exist_ok=True)
        self.faces: dict[int, FaceStats] = {}
        header = ["frame", "seconds", "track", "x", "y", "w", "h", *class_names, "label"]
        kept = _complete_rows(folder / CSV_NAME, header) if resume and (folder / CSV_NAME).is_file() else []
        # where to go on: after the last complete frame of a previous run, or from the start
        self.start_frame = max((int(r[0]) for r in kept), default=-1) + 1
        self._file = open(folder / CSV_NAME, "w", newline="")  # noqa: SIM115  (open for the writer's life)
        self._csv = csv.writer(self._file)
        self._csv.writerow(header)
        self._csv.writerows(kept)
        for row in kept:
            self._count(int(row[2]), float(row[1]), row[-1])
        self.thumbnail_every_s = (duration_s or 60.0) / MAX_THUMBNAILS
        self._next_thumbnail_s = 0.0
        self.thumbnails: list[tuple[float, bytes]] = []

    def _count(self, track: int, seconds: float, label: str) -> None:
        stats = self.faces.setdefault(track, FaceStats(first_seconds=seconds))
        stats.frames += 1
        stats.last_seconds = seconds
        stats.labels[label] += 1

    def write(self, frame_index: int, seconds: float, tracks: list[Track], annotated: np.ndarray | None) -> None:
        for t in tracks:
            b = t.box
            probs = [f"{t.probabilities[name]:.4f}" for name in self.class_names]
            self._csv.writerow([frame_index, f"{seconds:.3f}", t.track_id, b.x, b.y, b.w, b.h, *probs, t.label])
            self._count(t.track_id, seconds, t.label)
        self._file.flush()  # a killed run loses at most the frame in progress
        if annotated is not None and seconds >= self._next_thumbnail_s and len(self.thumbnails) < MAX_THUMBNAILS:
            small = cv2.resize(annotated, (320, round(320 * annotated.shape[0] / annotated.shape[1])))
            self.thumbnails.append((seconds, cv2.imencode(".jpg", small)[1].tobytes()))
            self._next_thumbnail_s = seconds + self.thumbnail_every_s

    def close(self) -> dict:
        """Write summary.json, timeline.png (when matplotlib is there) and index.html; return the summary."""
        self._file.close()
        summary = {
            str(track): {
                "frames": s.frames,
                "first_seconds": round(s.first_seconds, 3),
                "last_seconds": round(s.last_seconds, 3),
                "share_of_time": {name: round(s.labels[name] / s.frames, 4) for name in self.class_names},
                "mostly": s.labels.most_common(1)[0][0],
            }
            for track, s in sorted(self.faces.items())
        }
        (self.folder / SUMMARY_NAME).write_text(json.dumps(summary, indent=1))
        plot = plot_timeline(self.folder / CSV_NAME, self.folder / PLOT_NAME, self.class_names)
        write_page(self.folder, summary, plot, self.thumbnails, self.class_names)
        return summary


def plot_timeline(csv_path: Path, out: Path, class_names: tuple[str, ...]) -> Path | None:
    """One panel per face: each expression's probability against time. None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    series: dict[int, list[list[float]]] = {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            series.setdefault(int(row["track"]), []).append(
                [float(row["seconds"])] + [float(row[n]) for n in class_names]
            )
    if not series:
        return None
    fig, axes = plt.subplots(len(series), 1, figsize=(10, 2.4 * len(series)), squeeze=False, sharex=True)
    for ax, (track, rows) in zip(axes[:, 0], sorted(series.items())):
        data = np.array(rows)
        for k, name in enumerate(class_names):
            ax.plot(data[:, 0], data[:, k + 1], label=name, linewidth=1.2)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"face {track}")
    axes[-1, 0].set_xlabel("seconds")
    axes[0, 0].legend(ncol=len(class_names), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 1.35))
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def write_page(folder: Path, summary: dict, plot: Path | None, thumbnails: list[tuple[float, bytes]],
               class_names: tuple[str, ...]) -> Path:  # fmt: skip
    """index.html with everything embedded, so the page travels alone."""
    rows = "".join(
        f"<tr><td>face {html.escape(track)}</td><td>{s['frames']}</td><td>{s['first_seconds']:.1f}–"
        f"{s['last_seconds']:.1f} s</td><td>{html.escape(s['mostly'])}</td>"
        + "".join(f"<td>{s['share_of_time'][n]:.0%}</td>" for n in class_names)
        + "</tr>"
        for track, s in summary.items()
    )
    head = "".join(f"<th>{html.escape(n)}</th>" for n in class_names)
    image = ""
    if plot is not None:
        image = f'<img alt="timeline" src="data:image/png;base64,{base64.b64encode(plot.read_bytes()).decode()}">'
    frames = "".join(
        f'<figure><img alt="frame at {t:.1f} s" src="data:image/jpeg;base64,{base64.b64encode(jpg).decode()}">'
        f"<figcaption>{t:.1f} s</figcaption></figure>"
        for t, jpg in thumbnails
    )
    page = folder / PAGE_NAME
    page.write_text(
        "<!doctype html><meta charset=utf-8><title>ferkit timeline</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 8px;"
        "border-bottom:1px solid #ddd;text-align:right}figure{display:inline-block;margin:4px}</style>"
        f"<h1>Expressions over time</h1><table><tr><th>face</th><th>frames</th><th>seen</th><th>mostly</th>{head}"
        f"</tr>{rows}</table>{image}<h2>Annotated frames</h2>{frames}"
    )
    return page
