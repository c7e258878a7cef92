"""What the Stats view's two charts paint alike: the white frame, the legend, the y grid with
its labels, the empty-chart message and the baseline (QPainter; QtCharts is not in the PySide6
wheel this station ships)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

LEFT, RIGHT, TOP = 56, 16, 40  # room for the y labels and the legend
GRID, LABEL, TEXT, AXIS = "#e5e7eb", "#6b7280", "#374151", "#9ca3af"


def nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if peak / step <= 6:
            return step
    return 10000


def begin(widget: QWidget, bottom: int) -> tuple[QPainter, QRectF]:
    """A painter on a white `widget` with the small font, and the plot's rectangle."""
    p = QPainter(widget)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.fillRect(widget.rect(), QColor("white"))
    small = QFont()
    small.setPixelSize(12)
    p.setFont(small)
    return p, QRectF(LEFT, TOP, widget.width() - LEFT - RIGHT, widget.height() - TOP - bottom)


def legend(p: QPainter, items: Sequence[tuple[str, str]], swatch: QRectF) -> None:
    """One swatch (its shape and place given by `swatch`, moved along) and label per item."""
    x = 0.0
    for label, colour in items:
        p.fillRect(swatch.translated(x, 0), QColor(colour))
        p.setPen(QColor(TEXT))
        p.drawText(QRectF(swatch.left() + x + 20, swatch.center().y() - 11, 240, 22), Qt.AlignmentFlag.AlignVCenter,
                   label)
        x += 40 + p.fontMetrics().horizontalAdvance(label)


def empty(p: QPainter, plot: QRectF, message: str) -> None:
    p.setPen(QColor(LABEL))
    p.drawText(plot, Qt.AlignmentFlag.AlignCenter, message)
    p.end()


def y_grid(p: QPainter, plot: QRectF, peak: int) -> int:
    """Grid lines and labels at a round step up to the ceiling over `peak`; the ceiling."""
    step = nice_step(max(peak, 1))
    ceiling = step * -(-max(peak, 1) // step)
    for value in range(0, ceiling + 1, step):
        y = plot.bottom() - plot.height() * value / ceiling
        p.setPen(QPen(QColor(GRID), 1))
        p.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
        p.setPen(QColor(LABEL))
        p.drawText(QRectF(0, y - 9, LEFT - 8, 18),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(value))
    return ceiling


def x_label(p: QPainter, x: float, plot: QRectF, text: str) -> None:
    p.setPen(QColor(LABEL))
    p.drawText(QRectF(x, plot.bottom() + 6, 60, 18), Qt.AlignmentFlag.AlignLeft, text)


def finish(p: QPainter, plot: QRectF) -> None:
    """The baseline, drawn last over the bars or lines."""
    p.setPen(QPen(QColor(AXIS), 1))
    p.drawLine(int(plot.left()), int(plot.bottom()), int(plot.right()), int(plot.bottom()))
    p.end()
