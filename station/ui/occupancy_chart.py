"""Inside now per list over the evening: a line per list, painted with QPainter like the
admissions chart (QtCharts is not in the PySide6 wheel this station ships)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from station.domain.times import parse_iso

# Told apart by colour and by the legend's order; enough for the lists of one venue.
LINE_COLOURS = ("#1d4ed8", "#15803d", "#b45309", "#7c3aed", "#0e7490", "#be123c", "#374151")


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    values: list[int]


def nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if peak / step <= 6:
            return step
    return 10000


class OccupancyChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(480, 120)  # shares the Stats view with the admissions (800x600)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.slots: list[str] = []
        self.lines: list[Line] = []

    def set_lines(self, slots: list[str], lines: list[Line]) -> None:
        self.slots, self.lines = slots, lines
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        left, right, top, bottom = 56, 16, 40, 36
        plot = QRectF(left, top, self.width() - left - right, self.height() - top - bottom)
        small = QFont()
        small.setPixelSize(12)
        p.setFont(small)
        x = float(left)
        for i, line in enumerate(self.lines):
            colour = QColor(LINE_COLOURS[i % len(LINE_COLOURS)])
            p.fillRect(QRectF(x, 14, 14, 4), colour)
            p.setPen(QColor("#374151"))
            p.drawText(QRectF(x + 20, 5, 240, 22), Qt.AlignmentFlag.AlignVCenter, line.name)
            x += 40 + p.fontMetrics().horizontalAdvance(line.name)
        if not self.lines or len(self.slots) < 2:
            p.setPen(QColor("#6b7280"))
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "Nobody has entered in the last hours yet.")
            p.end()
            return
        peak = max(max(line.values, default=0) for line in self.lines) or 1
        step = nice_step(peak)
        ceiling = step * -(-peak // step)
        for value in range(0, ceiling + 1, step):
            y = plot.bottom() - plot.height() * value / ceiling
            p.setPen(QPen(QColor("#e5e7eb"), 1))
            p.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
            p.setPen(QColor("#6b7280"))
            p.drawText(QRectF(0, y - 9, left - 8, 18),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(value))
        dx = plot.width() / (len(self.slots) - 1)
        label_every = max(1, int(64 / max(dx, 1)))
        for i, slot in enumerate(self.slots):
            if i % label_every == 0:
                p.setPen(QColor("#6b7280"))
                local = parse_iso(slot).astimezone().strftime("%H:%M")
                p.drawText(QRectF(plot.left() + i * dx - 16, plot.bottom() + 6, 60, 18),
                           Qt.AlignmentFlag.AlignLeft, local)
        for n, line in enumerate(self.lines):
            p.setPen(QPen(QColor(LINE_COLOURS[n % len(LINE_COLOURS)]), 2.5))
            points = [QPointF(plot.left() + i * dx, plot.bottom() - plot.height() * v / ceiling)
                      for i, v in enumerate(line.values)]
            p.drawPolyline(points)
        p.setPen(QPen(QColor("#9ca3af"), 1))
        p.drawLine(int(plot.left()), int(plot.bottom()), int(plot.right()), int(plot.bottom()))
        p.end()
