"""What a ladder rung hands the decoder: an image derived from the frame, and the way back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Hints = tuple[tuple[float, float, float, float], ...]  # x0, y0, x1, y1 of codes seen but not read


@dataclass(frozen=True, slots=True)
class View:
    """An image derived from the frame, and how to map its pixels back (x / scale + dx).
    `engine`: which decoder reads it; "" is the ladder's own."""

    image: np.ndarray
    scale: float = 1.0
    dx: float = 0.0
    dy: float = 0.0
    engine: str = ""
