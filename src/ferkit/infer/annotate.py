"""Draw predictions on a copy of the photo, legible on any background: a box per face, a label tag, and a
panel of the class probabilities (name, bar, percentage) beside the face."""

from __future__ import annotations

import cv2
import numpy as np

from ferkit.infer.recognizer import FacePrediction

FONT = cv2.FONT_HERSHEY_SIMPLEX
BOX = (60, 200, 60)  # BGR green
BAR = (255, 170, 40)  # BGR light blue
TOP_BAR = (60, 200, 60)
TEXT = (255, 255, 255)
PANEL = (30, 30, 30)


def _text_size(text: str, scale: float, thick: int) -> tuple[int, int]:
    (w, h), _ = cv2.getTextSize(text, FONT, scale, thick)
    return w, h


def _shade(out: np.ndarray, x0: int, y0: int, x1: int, y1: int, alpha: float = 0.75) -> None:
    """A dark, mostly opaque panel (clipped to the image) for text to sit on."""
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(out.shape[1], x1), min(out.shape[0], y1)
    if x1 > x0 and y1 > y0:
        region = out[y0:y1, x0:x1]
        region[:] = (region * (1 - alpha) + np.array(PANEL) * alpha).astype(np.uint8)


def _label_tag(out: np.ndarray, p: FacePrediction, scale: float, thick: int) -> None:
    """'happy 93%' in white on the box colour, above the box (inside it when there is no room above)."""
    b = p.box
    text = f"{p.label} {p.probabilities[p.label]:.0%}"
    w, h = _text_size(text, 0.6 * scale, thick)
    pad = max(2, round(3 * scale))
    top = b.y - h - 2 * pad if b.y - h - 2 * pad >= 0 else b.y
    cv2.rectangle(out, (b.x, top), (b.x + w + 2 * pad, top + h + 2 * pad), BOX, -1)
    cv2.putText(out, text, (b.x + pad, top + h + pad), FONT, 0.6 * scale, TEXT, thick, cv2.LINE_AA)


Rect = tuple[int, int, int, int]  # x0, y0, x1, y1


def _overlap(a: Rect, b: Rect) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _place(box: Rect, size: tuple[int, int], image: tuple[int, int], taken: list[Rect], gap: int) -> Rect:
    """Where a panel covers the least of the faces and panels already drawn: below the face, beside it
    (right, left) or above it, in that order of preference; always inside the image."""
    (w, h), (height, width) = size, image
    x0, y0, x1, y1 = box
    candidates = [(x0, y1 + gap), (x1 + gap, y0), (x0 - w - gap, y0), (x0, y0 - h - 3 * gap - 20)]
    best: tuple[int, Rect] | None = None
    for x, y in candidates:
        x, y = min(max(0, x), max(0, width - w)), min(max(0, y), max(0, height - h))
        rect = (x, y, x + w, y + h)
        cost = sum(_overlap(rect, other) for other in taken) + _overlap(rect, box) * 4
        if best is None or cost < best[0]:
            best = (cost, rect)
    return best[1]  # type: ignore[index]


def _probability_panel(out: np.ndarray, p: FacePrediction, scale: float, taken: list[Rect]) -> None:
    """One row per class: its name, a bar, the percentage (the top class in the box's colour)."""
    b = p.box
    names = list(p.probabilities)
    text_scale = 0.45 * scale
    name_w = max(_text_size(n, text_scale, 1)[0] for n in names)
    pct_w = _text_size("100%", text_scale, 1)[0]
    row_h = max(12, round(16 * scale))
    bar_w = round(70 * scale)
    gap = max(3, round(4 * scale))
    width = name_w + bar_w + pct_w + 4 * gap
    height = len(names) * row_h + gap
    box = (b.x, b.y, b.x + b.w, b.y + b.h)
    x0, y0, x1, y1 = _place(box, (width, height), out.shape[:2], taken, gap)
    taken.append((x0, y0, x1, y1))
    _shade(out, x0, y0, x1, y1)
    for i, name in enumerate(names):
        prob = p.probabilities[name]
        y = y0 + gap + i * row_h
        baseline = y + row_h - gap - 1
        cv2.putText(out, name, (x0 + gap, baseline), FONT, text_scale, TEXT, 1, cv2.LINE_AA)
        bx = x0 + 2 * gap + name_w
        colour = TOP_BAR if name == p.label else BAR
        cv2.rectangle(out, (bx, y + 1), (bx + max(1, round(bar_w * prob)), y + row_h - gap), colour, -1)
        cv2.putText(out, f"{prob:.0%}", (bx + bar_w + gap, baseline), FONT, text_scale, TEXT, 1, cv2.LINE_AA)


def annotate(image: np.ndarray, predictions: list[FacePrediction]) -> np.ndarray:
    """A BGR copy of `image` with every prediction drawn; text scales with the image."""
    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    scale = max(0.6, max(out.shape[:2]) / 640)
    thick = max(1, round(2 * scale))
    taken: list[Rect] = [(p.box.x, p.box.y, p.box.x + p.box.w, p.box.y + p.box.h) for p in predictions]
    for p in predictions:
        b = p.box
        cv2.rectangle(out, (b.x, b.y), (b.x + b.w, b.y + b.h), BOX, thick)
    for p in predictions:
        _probability_panel(out, p, scale, taken)
    for p in predictions:
        _label_tag(out, p, scale, thick)
    return out
