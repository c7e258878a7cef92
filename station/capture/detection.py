"""What a decoder found in an image, in the image's own pixel coordinates."""

from __future__ import annotations

from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Detection:
    text: str
    format: str  # "QRCode" from every engine, so callers never branch on the engine
    corners: tuple[Point, ...]  # top-left, top-right, bottom-right, bottom-left when known

    def moved(self, scale: float, dx: float, dy: float) -> Detection:
        """The same detection in the coordinates of the image a view was cut/scaled from."""
        return Detection(self.text, self.format, tuple((x / scale + dx, y / scale + dy) for x, y in self.corners))

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "format": self.format,
            "corners": [[round(x, 1), round(y, 1)] for x, y in self.corners],
        }
