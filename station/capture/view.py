"""What a ladder rung hands the decoder: an image derived from the frame, and the way back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from station.capture.detection import Detection

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
    # A view resampled along a curve (unbend.py) maps its pixels back point by point instead.
    back: Callable[[float, float], tuple[float, float]] | None = None

    def to_source(self, d: Detection) -> Detection:
        """A detection in this view, in the coordinates of the image the view was made from."""
        if self.back is None:
            return d.moved(self.scale, self.dx, self.dy)
        return Detection(d.text, d.format, tuple(self.back(x, y) for x, y in d.corners))
