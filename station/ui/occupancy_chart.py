"""Inside now per list over the evening: a line per list, painted on the frame it shares
with the admissions chart (ui/chart_frame.py)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from station.domain.times import parse_iso
from station.ui import chart_frame

# Told apart by colour and by the legend's order; enough for the lists of one venue.
LINE_COLOURS = ("#1d4ed8", "#15803d", "#b45309", "#7c3aed", "#0e7490", "#be123c", "#374151")


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    values: list[int]


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
        p, plot = chart_frame.begin(self, bottom=36)
        chart_frame.legend(p, [(line.name, LINE_COLOURS[i % len(LINE_COLOURS)])
                               for i, line in enumerate(self.lines)],
                           QRectF(chart_frame.LEFT, 14, 14, 4))
        if not self.lines or len(self.slots) < 2:
            chart_frame.empty(p, plot, "Nobody has entered in the last hours yet.")
            return
        ceiling = chart_frame.y_grid(p, plot, max(max(line.values, default=0) for line in self.lines))
        dx = plot.width() / (len(self.slots) - 1)
        label_every = max(1, int(64 / max(dx, 1)))
        for i, slot in enumerate(self.slots):
            if i % label_every == 0:
                chart_frame.x_label(p, plot.left() + i * dx - 16, plot,
                                    parse_iso(slot).astimezone().strftime("%H:%M"))
        for n, line in enumerate(self.lines):
            p.setPen(QPen(QColor(LINE_COLOURS[n % len(LINE_COLOURS)]), 2.5))
            points = [QPointF(plot.left() + i * dx, plot.bottom() - plot.height() * v / ceiling)
                      for i, v in enumerate(line.values)]
            p.drawPolyline(points)
        chart_frame.finish(p, plot)
