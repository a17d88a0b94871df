"""Draw predictions on a copy of the photo: a box per face, its label, and a bar per class."""

from __future__ import annotations

import cv2
import numpy as np

from ferkit.infer.recognizer import FacePrediction


def annotate(image: np.ndarray, predictions: list[FacePrediction]) -> np.ndarray:
    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    scale = max(out.shape[:2]) / 640
    thick = max(1, round(2 * scale))
    for p in predictions:
        b = p.box
        cv2.rectangle(out, (b.x, b.y), (b.x + b.w, b.y + b.h), (0, 200, 0), thick)
        cv2.putText(
            out,
            f"{p.label} {p.probabilities[p.label]:.0%}",
            (b.x, max(12, b.y - 6)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.6 * scale,
            (0, 200, 0),
            thick,
        )
        bar_h = max(8, round(10 * scale))
        x0, y0 = b.x + b.w + 4, b.y
        for i, (name, prob) in enumerate(p.probabilities.items()):
            y = y0 + i * (bar_h + 3)
            cv2.rectangle(out, (x0, y), (x0 + round(80 * scale * prob), y + bar_h), (255, 160, 0), -1)
            cv2.putText(
                out,
                name,
                (x0 + round(84 * scale), y + bar_h - 1),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.35 * scale,
                (255, 255, 255),
                1,
            )
    return out
