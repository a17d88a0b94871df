"""The evaluation report: PNG figures, metrics.json, predictions.csv and one self-contained HTML page."""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path

import numpy as np

from ferkit.data.figures import pyplot, save_figure
from ferkit.evaluate.run import Evaluation


def confusion_figure(ev: Evaluation, path: Path) -> Path:
    """Counts and row-normalised confusion matrices, class names on both axes."""
    plt = pyplot()
    cm = np.array(ev.metrics["confusion_matrix"])
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    names = ev.class_names
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.6))
    for ax, data, title, fmt in ((axes[0], cm, "counts", "{:d}"), (axes[1], norm, "share of true class", "{:.2f}")):
        ax.imshow(data, cmap="Blues")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"confusion matrix ({title})")
        top = data.max() if data.size else 1
        for i in range(len(names)):
            for j in range(len(names)):
                value = data[i, j]
                ax.text(
                    j,
                    i,
                    fmt.format(int(value) if fmt == "{:d}" else value),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if value > top / 2 else "black",
                )
    return save_figure(fig, path)


def counts_figure(ev: Evaluation, path: Path) -> Path:
    """True vs predicted class counts, side by side."""
    plt = pyplot()
    x = np.arange(len(ev.class_names))
    fig, ax = plt.subplots(figsize=(9, 4))
    true_bars = ax.bar(x - 0.2, ev.metrics["true_counts"], 0.4, label="true")
    pred_bars = ax.bar(x + 0.2, ev.metrics["predicted_counts"], 0.4, label="predicted")
    ax.bar_label(true_bars, fontsize=7)
    ax.bar_label(pred_bars, fontsize=7)
    ax.set_xticks(x, ev.class_names)
    ax.legend()
    ax.set_title(f"true vs predicted counts on {ev.metrics['split']}")
    return save_figure(fig, path)


def prediction_grid(ev: Evaluation, path: Path, indices: np.ndarray, title: str) -> Path:
    """Faces with 'P: predicted A: actual' (mistakes in red), each beside a bar chart of its probabilities."""
    plt = pyplot()
    n = len(indices)
    cols = 4
    rows = max(1, int(np.ceil(n / cols)))
    fig, axes = plt.subplots(
        rows, cols * 2, figsize=(cols * 4.2, rows * 1.9), squeeze=False, gridspec_kw={"width_ratios": [1, 1.6] * cols}
    )
    for ax in axes.flat:
        ax.axis("off")
    preds = ev.probs.argmax(axis=1)
    for k, i in enumerate(indices):
        face_ax, bar_ax = axes[k // cols, 2 * (k % cols)], axes[k // cols, 2 * (k % cols) + 1]
        face_ax.imshow(ev.faces[i], cmap="gray", vmin=0, vmax=255)
        wrong = preds[i] != ev.labels[i]
        face_ax.set_title(
            f"P: {ev.class_names[preds[i]]}\nA: {ev.class_names[ev.labels[i]]}",
            fontsize=8,
            color="red" if wrong else "black",
        )
        bar_ax.axis("on")
        colors = ["#C44E52" if c == preds[i] and wrong else "#4C72B0" for c in range(len(ev.class_names))]
        bar_ax.barh(range(len(ev.class_names)), ev.probs[i], color=colors)
        bar_ax.set_yticks(range(len(ev.class_names)), ev.class_names, fontsize=6)
        bar_ax.set_xlim(0, 1)
        bar_ax.invert_yaxis()
        bar_ax.tick_params(axis="x", labelsize=6)
    fig.suptitle(title)
    return save_figure(fig, path)


def confident_mistakes(ev: Evaluation, per_class: int = 2) -> np.ndarray:
    """The most confident wrong predictions, `per_class` for each true class."""
    preds = ev.probs.argmax(axis=1)
    picked = []
    for c in range(len(ev.class_names)):
        wrong = np.flatnonzero((ev.labels == c) & (preds != c))
        picked.extend(wrong[np.argsort(-ev.probs[wrong].max(axis=1))][:per_class].tolist())
    return np.array(picked, dtype=np.int64)


def reliability_figure(ev: Evaluation, path: Path) -> Path:
    plt = pyplot()
    rel = ev.metrics["reliability"]
    edges = np.array(rel["edges"])
    centers = (edges[:-1] + edges[1:]) / 2
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.bar(centers, rel["accuracy"], width=edges[1] - edges[0], edgecolor="black", alpha=0.7, label="accuracy")
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"reliability (ECE {ev.metrics['ece']:.3f})")
    ax.legend()
    return save_figure(fig, path)


def write_report(ev: Evaluation, out_dir: Path, *, seed: int = 0) -> Path:
    """Everything into out_dir; returns the HTML page (figures embedded, so it travels alone)."""
    pyplot()  # without matplotlib, fail before writing anything: never leave half a report
    out_dir.mkdir(parents=True, exist_ok=True)
    slim = {k: v for k, v in ev.metrics.items()}
    (out_dir / "metrics.json").write_text(json.dumps(slim, indent=1))
    with open(out_dir / "predictions.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "true", "predicted", *[f"p_{n}" for n in ev.class_names]])
        for i, (label, probs) in enumerate(zip(ev.labels, ev.probs)):
            writer.writerow(
                [i, ev.class_names[label], ev.class_names[int(probs.argmax())], *[f"{p:.5f}" for p in probs]]
            )
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(ev.labels), size=min(16, len(ev.labels)), replace=False)
    figures = [
        ("Confusion matrix", confusion_figure(ev, out_dir / "confusion_matrix.png")),
        ("True vs predicted counts", counts_figure(ev, out_dir / "counts.png")),
        (
            "Random faces: prediction and probabilities",
            prediction_grid(ev, out_dir / "predictions.png", sample, "P: predicted, A: actual (red = wrong)"),
        ),
        (
            "Most confident mistakes, per true class",
            prediction_grid(ev, out_dir / "mistakes.png", confident_mistakes(ev), "most confident mistakes"),
        ),
        ("Calibration", reliability_figure(ev, out_dir / "reliability.png")),
    ]
    page = out_dir / "report.html"
    page.write_text(_html(ev, figures))
    return page


def _html(ev: Evaluation, figures: list[tuple[str, Path]]) -> str:
    m = ev.metrics
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{c['precision']:.3f}</td><td>{c['recall']:.3f}</td>"
        f"<td>{c['f1']:.3f}</td><td>{c['accuracy']:.3f}</td><td>{c['support']}</td></tr>"
        for name, c in m["per_class"].items()
    )
    imgs = "".join(
        f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,"
        f"{base64.b64encode(path.read_bytes()).decode()}'>"
        for title, path in figures
    )
    return (
        "<!doctype html><meta charset='utf-8'><title>ferkit evaluation</title>"
        "<style>body{font-family:sans-serif;max-width:1300px;margin:auto}img{max-width:100%}"
        "td,th{padding:2px 10px;text-align:right}td:first-child{text-align:left}</style>"
        f"<h1>{html.escape(m['model'])}</h1>"
        f"<p>{html.escape(m['split'])}: {m['n']:,} faces, TTA {html.escape(m['tta'])}. "
        f"<b>accuracy {m['accuracy']:.4f}</b>, macro-F1 {m['macro_f1']:.4f}, ECE {m['ece']:.4f}</p>"
        "<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>accuracy (1-vs-rest)</th>"
        f"<th>support</th></tr>{rows}</table>{imgs}"
    )
