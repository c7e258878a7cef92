"""A page or panel that may be shorter than its content, so it never sets the window's height."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


def scrollable(widget: QWidget) -> QScrollArea:
    """`widget` in a frameless, vertically scrolling area that follows the area's width."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    # Only the height scrolls: the area is as narrow as its content allows, never narrower
    # (the content would be cut at the right edge, with no scroll bar to reach it).
    least = max(widget.minimumWidth(), widget.minimumSizeHint().width())
    area.setMinimumWidth(least + area.verticalScrollBar().sizeHint().width())
    return area
