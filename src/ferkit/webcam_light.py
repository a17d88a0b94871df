"""How a webcam's light changes a face: one source for the judge's built frames and the training augmentation."""

from __future__ import annotations

# A frame's pixels become 255 * (p / 255) ** gamma * light: gamma from GAMMA, light (exposure) from LIGHT,
# each drawn uniformly per frame. The ranges cover a dim room to a well-lit desk.
GAMMA = (0.8, 1.5)
LIGHT = (0.45, 1.0)
